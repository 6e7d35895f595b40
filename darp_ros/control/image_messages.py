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

"""
Decode sensor_msgs/Image and sensor_msgs/CompressedImage messages into RGB arrays.

The functions are duck-typed on field names, so they accept messages from rclpy (data is
an array.array or bytes) and from the pure-Python rosbags package (data is a numpy array)
alike, and never import rclpy.
"""

from typing import Any, Tuple

import cv2
from darp_ros.core.errors import ObservationError
import numpy as np

SUPPORTED_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8')

_CHANNELS = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1}

# cv2 colour conversions accept the strided, read-only views of the message buffer and
# always write a new array, which is the copy the message-reuse contract needs anyway.
_TO_RGB = {
    'bgr8': cv2.COLOR_BGR2RGB,
    'rgba8': cv2.COLOR_RGBA2RGB,
    'bgra8': cv2.COLOR_BGRA2RGB,
    'mono8': cv2.COLOR_GRAY2RGB,
}

_JPEG_START = b'\xff\xd8'
_JPEG_END = b'\xff\xd9'


def as_uint8_buffer(data: Any, what: str = 'image data') -> np.ndarray:
    """
    View a uint8[] message field as a flat uint8 numpy array without copying.

    Accepts bytes, bytearray, memoryview, array.array('B') and numpy arrays of one-byte
    items; anything with wider items is rejected because reinterpreting it would scramble
    the pixels.
    """
    if isinstance(data, np.ndarray):
        if data.dtype.itemsize != 1 or data.dtype.kind not in 'ui':
            raise ObservationError(f'{what} has dtype {data.dtype}, expected uint8')
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    try:
        view = memoryview(data)
    except TypeError:
        # Lists of ints are not buffers; numpy converts them in C, then the range is checked.
        values = np.asarray(data)
        if values.size == 0:
            return np.zeros(0, dtype=np.uint8)
        if values.dtype.kind not in 'ui' or values.min() < 0 or values.max() > 255:
            raise ObservationError(
                f'{what} of type {type(data).__name__} is not a sequence of bytes (0..255)')
        return values.astype(np.uint8).reshape(-1)
    if view.itemsize != 1:
        raise ObservationError(
            f'{what} has {view.itemsize}-byte items (format {view.format!r}), expected bytes')
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return np.frombuffer(view, dtype=np.uint8)


def image_to_rgb(msg: Any) -> np.ndarray:
    """
    Decode a sensor_msgs/Image-like message into a (height, width, 3) uint8 RGB array.

    The result is C-contiguous and owns its memory, so the message buffer may be reused.
    Row padding (step larger than width x channels) is skipped; mono8 is replicated to three
    channels and alpha is dropped.
    """
    encoding = str(msg.encoding).strip().lower()
    if encoding not in _CHANNELS:
        raise ObservationError(
            f'image encoding {msg.encoding!r} is not supported; '
            f'supported encodings are {", ".join(SUPPORTED_ENCODINGS)}')
    channels = _CHANNELS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ObservationError(f'image size {height}x{width} (height x width) is empty')
    row_bytes = width * channels
    if step < row_bytes:
        raise ObservationError(
            f'image step {step} is smaller than width {width} x {channels} channels '
            f'({row_bytes})')
    buffer = as_uint8_buffer(msg.data)
    # Some publishers omit the padding after the last row, so only its pixels are required.
    needed = step * (height - 1) + row_bytes
    if buffer.size < needed:
        raise ObservationError(
            f'image data is truncated: {buffer.size} bytes, expected at least {needed} '
            f'(step {step} x (height {height} - 1) + width {width} x {channels} channels)')
    if buffer.size > step * height:
        raise ObservationError(
            f'image data has {buffer.size} bytes, more than step {step} x height {height} '
            f'({step * height}); step, size or encoding {encoding} is inconsistent')
    # is_bigendian only matters for multi-byte channels, and every supported encoding has
    # one byte per channel.
    pixels = np.lib.stride_tricks.as_strided(
        buffer, shape=(height, width, channels), strides=(step, channels, 1), writeable=False)
    if encoding == 'rgb8':
        return np.array(pixels, dtype=np.uint8, order='C')
    if encoding == 'mono8':
        pixels = pixels[:, :, 0]
    return np.ascontiguousarray(cv2.cvtColor(pixels, _TO_RGB[encoding]))


def _compressed_channel_order(format_string: str) -> Tuple[str, bool]:
    """
    Return the codec named in a CompressedImage format and whether its colours are RGB.

    image_transport writes '<raw encoding>; <codec> compressed <encoding given to the
    codec>'. OpenCV hands the codec BGR memory unless that last encoding says rgb, so only
    then are the decoded channels already in RGB order. A bare 'jpeg' or 'png' comes from
    OpenCV-style publishers and is BGR.
    """
    text = format_string.strip().lower()
    _, _, compressed = text.rpartition(';')
    words = compressed.split()
    codec = words[0] if words else ''
    packed = words[-1] if len(words) >= 3 and words[1] == 'compressed' else ''
    return codec, packed.startswith('rgb')


def compressed_to_rgb(msg: Any) -> np.ndarray:
    """
    Decode a sensor_msgs/CompressedImage-like message into a (height, width, 3) uint8 RGB array.

    JPEG and PNG (anything OpenCV reads) in gray, colour or colour-with-alpha are accepted;
    16-bit images, compressedDepth payloads and undecodable bytes are rejected.
    """
    format_string = str(msg.format)
    buffer = as_uint8_buffer(msg.data, 'compressed image data')
    where = f'compressed image (format {format_string!r}, {buffer.size} bytes)'
    if buffer.size == 0:
        raise ObservationError(f'{where} has no data')
    if 'compresseddepth' in format_string.lower():
        # compressedDepth prefixes the PNG with a depth-quantization header: not a colour image.
        raise ObservationError(f'{where} is a compressedDepth image; only colour is supported')
    codec, already_rgb = _compressed_channel_order(format_string)
    # OpenCV 4.6 (the Ubuntu 24.04 build) decodes a cut-off JPEG with a gray bottom and only a
    # warning; a JPEG that lacks its end-of-image marker is therefore rejected here.
    if buffer[:2].tobytes() == _JPEG_START and buffer.tobytes().rfind(_JPEG_END) < 2:
        raise ObservationError(f'{where} is a truncated JPEG: no end-of-image marker')
    try:
        decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ObservationError(f'{where} could not be decoded: {error}') from error
    if decoded is None:
        raise ObservationError(f'{where} could not be decoded (corrupt or unknown codec)')
    if decoded.dtype != np.uint8:
        raise ObservationError(
            f'{where} decodes to {decoded.dtype} pixels, expected 8-bit (uint8) colour')
    if decoded.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_GRAY2RGB))
    channels = decoded.shape[2]
    if channels == 1:
        return np.ascontiguousarray(cv2.cvtColor(decoded[:, :, 0], cv2.COLOR_GRAY2RGB))
    if channels == 3:
        if already_rgb:
            return np.ascontiguousarray(decoded)
        return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
    if channels == 4:
        conversion = cv2.COLOR_RGBA2RGB if already_rgb else cv2.COLOR_BGRA2RGB
        return np.ascontiguousarray(cv2.cvtColor(decoded, conversion))
    raise ObservationError(
        f'{where} decodes to {channels} channels ({codec or "unknown codec"}), '
        f'expected 1, 3 or 4')


def resize_rgb(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """
    Resize a (H, W, 3) uint8 RGB image to (height, width, 3).

    INTER_AREA is used when either side shrinks, since it averages instead of aliasing, and
    INTER_LINEAR when growing. An image already of that size is returned unchanged.
    """
    height, width = int(height), int(width)
    if height <= 0 or width <= 0:
        raise ObservationError(f'resize target {height}x{width} (height x width) is empty')
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ObservationError(
            f'image to resize has shape {image.shape} and dtype {image.dtype}, '
            f'expected (H, W, 3) uint8')
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ObservationError(f'image to resize has empty shape {image.shape}')
    if image.shape[:2] == (height, width):
        return image
    shrinking = height < image.shape[0] or width < image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)
