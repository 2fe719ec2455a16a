"""Data layer: MNIST, image folders, background noise, protocol, tf.data input.

Real photographs (:mod:`~adda_keras.data.photos`), the texture inspection
defects (:mod:`~adda_keras.data.inspection`) and the self-made anomalies of
``ada-synthetic`` (:mod:`~adda_keras.data.synthetic`) are imported by name.

Every function speaks one convention: images are float32 ``(N, H, W, C)``
arrays in ``[0, 1]`` (channels last), labels int64 ``(N,)``.
"""

from adda_keras.data.folder import (
    COLOR_MODES,
    DEFAULT_COLOR_MODE,
    DEFAULT_IMAGE_SIZE,
    IMAGE_EXTENSIONS,
    MAX_IMAGE_SIDE,
    ImageFormat,
    UnreadableImage,
    file_digest,
    find_image_files,
    image_format,
    load_folder_dataset,
    load_image_files,
    load_image_folder,
    pixel_digest,
    read_image_files,
)
from adda_keras.data.mnist import (
    BUNDLED_MNIST_DIR,
    DATA_DIR_ENV,
    MNIST_SOURCES,
    MnistData,
    load_mnist,
    read_idx,
)
from adda_keras.data.noise import (
    NOISE_KINDS,
    BackgroundNoise,
    add_background_noise,
    digit_support,
)
from adda_keras.data.pipeline import check_images, check_labels, make_dataset
from adda_keras.data.protocol import (
    AnomalySplit,
    ValidationSet,
    apply_noise,
    held_out_validation,
    one_class_split,
    semi_supervised_split,
)

__all__ = [
    "BUNDLED_MNIST_DIR",
    "COLOR_MODES",
    "DATA_DIR_ENV",
    "DEFAULT_COLOR_MODE",
    "DEFAULT_IMAGE_SIZE",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_SIDE",
    "MNIST_SOURCES",
    "NOISE_KINDS",
    "AnomalySplit",
    "BackgroundNoise",
    "ImageFormat",
    "MnistData",
    "UnreadableImage",
    "add_background_noise",
    "apply_noise",
    "held_out_validation",
    "ValidationSet",
    "check_images",
    "check_labels",
    "digit_support",
    "file_digest",
    "pixel_digest",
    "find_image_files",
    "image_format",
    "load_folder_dataset",
    "load_image_files",
    "load_image_folder",
    "load_mnist",
    "make_dataset",
    "one_class_split",
    "read_idx",
    "read_image_files",
    "semi_supervised_split",
]
