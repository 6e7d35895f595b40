# Copyright 2026 The darp_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Tests of darp_ros.control.image_messages on rclpy message classes and rosbags-like objects."""

import array
from types import SimpleNamespace

import cv2
from darp_ros.control.image_messages import (
    compressed_to_rgb, image_to_rgb, resize_rgb, SUPPORTED_ENCODINGS)
from darp_ros.core.errors import ObservationError
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

HEIGHT, WIDTH = 5, 7


def rgb_image(height=HEIGHT, width=WIDTH, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def gray_of(rgb):
    return rgb[:, :, 1]


def pack(rgb, encoding, padding=0):
    """Lay an RGB image out in `encoding` with `padding` bytes after every row."""
    if encoding == 'rgb8':
        pixels = rgb
    elif encoding == 'bgr8':
        pixels = rgb[:, :, ::-1]
    elif encoding == 'rgba8':
        pixels = np.dstack([rgb, np.full(rgb.shape[:2], 77, np.uint8)])
    elif encoding == 'bgra8':
        pixels = np.dstack([rgb[:, :, ::-1], np.full(rgb.shape[:2], 77, np.uint8)])
    else:
        pixels = gray_of(rgb)[:, :, None]
    height = pixels.shape[0]
    rows = pixels.reshape(height, -1)
    padded = np.concatenate([rows, np.full((height, padding), 255, np.uint8)], axis=1)
    return padded.shape[1], padded.tobytes()


def ros_image(height, width, encoding, step, data):
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=0, step=step)
    msg.data = array.array('B', data)
    return msg


def bag_image(height, width, encoding, step, data):
    # rosbags deserializes uint8[] into a numpy array and keeps the same field names.
    return SimpleNamespace(height=height, width=width, encoding=encoding, is_bigendian=0,
                           step=step, data=np.frombuffer(data, np.uint8).copy())


MAKERS = [ros_image, bag_image]


def expected_rgb(rgb, encoding):
    if encoding == 'mono8':
        return np.repeat(gray_of(rgb)[:, :, None], 3, axis=2)
    return rgb


@pytest.mark.parametrize('make', MAKERS)
@pytest.mark.parametrize('encoding', SUPPORTED_ENCODINGS)
@pytest.mark.parametrize('padding', [0, 3])
def test_every_encoding_decodes_to_the_same_rgb(make, encoding, padding):
    rgb = rgb_image()
    step, data = pack(rgb, encoding, padding)
    out = image_to_rgb(make(HEIGHT, WIDTH, encoding, step, data))
    assert out.shape == (HEIGHT, WIDTH, 3) and out.dtype == np.uint8
    assert out.flags.c_contiguous and out.flags.owndata
    np.testing.assert_array_equal(out, expected_rgb(rgb, encoding))


@pytest.mark.parametrize('container', [bytes, bytearray, memoryview])
def test_plain_byte_containers_are_accepted(container):
    rgb = rgb_image()
    step, data = pack(rgb, 'bgr8')
    msg = SimpleNamespace(height=HEIGHT, width=WIDTH, encoding='bgr8', is_bigendian=0,
                          step=step, data=container(data))
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_bgr_and_rgb_differ_by_a_channel_swap():
    rgb = rgb_image()
    step, data = pack(rgb, 'rgb8')
    as_bgr = image_to_rgb(ros_image(HEIGHT, WIDTH, 'bgr8', step, data))
    np.testing.assert_array_equal(as_bgr, rgb[:, :, ::-1])


def test_result_does_not_alias_the_message_buffer():
    rgb = rgb_image()
    step, data = pack(rgb, 'rgb8')
    msg = bag_image(HEIGHT, WIDTH, 'rgb8', step, data)
    out = image_to_rgb(msg)
    msg.data[:] = 0
    np.testing.assert_array_equal(out, rgb)


def test_last_row_padding_may_be_omitted():
    rgb = rgb_image()
    step, data = pack(rgb, 'rgb8', padding=4)
    np.testing.assert_array_equal(
        image_to_rgb(ros_image(HEIGHT, WIDTH, 'rgb8', step, data[:-4])), rgb)


def error_for(msg):
    with pytest.raises(ObservationError) as info:
        image_to_rgb(msg)
    return str(info.value)


@pytest.mark.parametrize('make', MAKERS)
def test_unsupported_encoding_lists_the_supported_ones(make):
    message = error_for(make(2, 2, '16UC1', 4, bytes(8)))
    assert '16UC1' in message
    assert all(encoding in message for encoding in SUPPORTED_ENCODINGS)


@pytest.mark.parametrize('make', MAKERS)
def test_step_smaller_than_a_row_is_rejected(make):
    message = error_for(make(4, 32, 'rgb8', 90, bytes(90 * 4)))
    assert message == 'image step 90 is smaller than width 32 x 3 channels (96)'


@pytest.mark.parametrize('make', MAKERS)
def test_truncated_data_says_how_many_bytes(make):
    step, data = pack(rgb_image(), 'rgb8', padding=2)
    message = error_for(make(HEIGHT, WIDTH, 'rgb8', step, data[:-5]))
    needed = step * (HEIGHT - 1) + WIDTH * 3
    assert 'truncated' in message
    assert f'{len(data) - 5} bytes' in message and f'at least {needed}' in message


@pytest.mark.parametrize('make', MAKERS)
def test_too_much_data_is_rejected(make):
    step, data = pack(rgb_image(), 'rgb8')
    message = error_for(make(HEIGHT, WIDTH, 'rgb8', step, data + b'\0'))
    assert f'{len(data) + 1} bytes' in message and f'({len(data)})' in message


@pytest.mark.parametrize('make', MAKERS)
@pytest.mark.parametrize('height, width', [(0, 4), (4, 0), (0, 0)])
def test_zero_size_is_rejected(make, height, width):
    assert 'empty' in error_for(make(height, width, 'rgb8', width * 3, b''))


def test_wide_items_are_rejected_instead_of_reinterpreted():
    msg = bag_image(1, 1, 'rgb8', 3, bytes(3))
    msg.data = np.zeros(3, np.float64)
    assert 'float64' in error_for(msg)


def compressed(image_bgr, extension, format_string, make, params=()):
    ok, encoded = cv2.imencode(extension, image_bgr, list(params))
    assert ok
    if make is ros_image:
        msg = CompressedImage(format=format_string)
        msg.data = array.array('B', encoded.tobytes())
        return msg
    return SimpleNamespace(format=format_string, data=encoded.reshape(-1))


@pytest.mark.parametrize('make', MAKERS)
@pytest.mark.parametrize('format_string', ['png', 'bgr8; png compressed bgr8'])
def test_png_round_trip_is_exact(make, format_string):
    rgb = rgb_image(12, 10)
    out = compressed_to_rgb(compressed(rgb[:, :, ::-1], '.png', format_string, make))
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize('make', MAKERS)
@pytest.mark.parametrize('format_string', ['jpeg', 'rgb8; jpeg compressed bgr8'])
def test_jpeg_round_trip_is_close(make, format_string):
    # Smooth ramps, because JPEG at quality 100 still subsamples chroma and blurs noise.
    y, x = np.mgrid[0:32, 0:24]
    rgb = np.dstack([x * 10, y * 7, 200 - y * 3]).astype(np.uint8)
    msg = compressed(rgb[:, :, ::-1], '.jpg', format_string, make,
                     (cv2.IMWRITE_JPEG_QUALITY, 100))
    out = compressed_to_rgb(msg).astype(int)
    assert out.shape == (32, 24, 3)
    assert np.abs(out - rgb).max() <= 8 and np.abs(out - rgb).mean() < 3
    assert np.abs(out[:, :, ::-1] - rgb).mean() > 40


def test_rgb_packed_payload_is_not_swapped():
    rgb = rgb_image(6, 4)
    msg = compressed(rgb, '.png', 'rgb8; png compressed rgb8', ros_image)
    np.testing.assert_array_equal(compressed_to_rgb(msg), rgb)


def test_gray_and_alpha_payloads_become_rgb():
    rgb = rgb_image(6, 4)
    gray = compressed(gray_of(rgb), '.png', 'mono8; png compressed mono8', ros_image)
    np.testing.assert_array_equal(compressed_to_rgb(gray), expected_rgb(rgb, 'mono8'))
    bgra = np.dstack([rgb[:, :, ::-1], np.full((6, 4), 9, np.uint8)])
    alpha = compressed(bgra, '.png', 'bgra8; png compressed bgra8', ros_image)
    np.testing.assert_array_equal(compressed_to_rgb(alpha), rgb)


def compressed_error(msg):
    with pytest.raises(ObservationError) as info:
        compressed_to_rgb(msg)
    return str(info.value)


@pytest.mark.parametrize('make', MAKERS)
def test_corrupt_and_truncated_jpeg_are_rejected(make):
    good = compressed(rgb_image(16, 16), '.jpg', 'jpeg', make)
    corrupt = SimpleNamespace(format='jpeg', data=b'\xff\xd8\xff\xe0 not a jpeg \xff\xd9')
    message = compressed_error(corrupt)
    assert "'jpeg'" in message and f'{len(corrupt.data)} bytes' in message
    truncated = SimpleNamespace(format='jpeg', data=bytes(good.data)[:len(good.data) // 2])
    assert 'jpeg' in compressed_error(truncated)


@pytest.mark.parametrize('make', MAKERS)
def test_empty_compressed_data_is_rejected(make):
    msg = (CompressedImage(format='jpeg') if make is ros_image
           else SimpleNamespace(format='jpeg', data=np.zeros(0, np.uint8)))
    message = compressed_error(msg)
    assert "'jpeg'" in message and '0 bytes' in message


def test_sixteen_bit_png_is_rejected():
    depth = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000
    msg = compressed(depth, '.png', '16UC1; png compressed 16UC1', ros_image)
    assert 'uint16' in compressed_error(msg)


def test_compressed_depth_is_rejected():
    msg = SimpleNamespace(format='16UC1; compressedDepth png', data=bytes(32))
    assert 'compressedDepth' in compressed_error(msg)


def test_resize_shrinks_and_grows():
    rgb = rgb_image(8, 12)
    small = resize_rgb(rgb, 4, 6)
    assert small.shape == (4, 6, 3) and small.dtype == np.uint8
    # INTER_AREA at an exact factor of 2 is the mean of each 2x2 block.
    blocks = rgb.reshape(4, 2, 6, 2, 3).astype(float).mean(axis=(1, 3))
    assert np.abs(small.astype(float) - blocks).max() <= 0.5
    assert resize_rgb(rgb, 16, 20).shape == (16, 20, 3)
    assert resize_rgb(rgb, 8, 12) is rgb
    flat = np.full((3, 3, 3), 40, np.uint8)
    np.testing.assert_array_equal(resize_rgb(flat, 7, 5), np.full((7, 5, 3), 40, np.uint8))


@pytest.mark.parametrize('image, height, width', [
    (np.zeros((4, 4), np.uint8), 2, 2),
    (np.zeros((4, 4, 3), np.float32), 2, 2),
    (np.zeros((4, 4, 3), np.uint8), 0, 2),
])
def test_resize_rejects_bad_input(image, height, width):
    with pytest.raises(ObservationError):
        resize_rgb(image, height, width)
