"""`preprocess_input`: what a network trained on ImageNet expects its input to be, as
`keras.applications.imagenet_utils.preprocess_input`.

x holds RGB pixels in [0, 255], channels last (what `striate.utils.image_dataset_from_directory` yields; an
image from `striate.images.read` times 255). The mode is the one the weights were trained with:

    mode      per channel c                                   used by
    "torch"   (x / 255 - mean[c]) / std[c]                    torchvision's ResNet, VGG, AlexNet
              mean = (0.485, 0.456, 0.406), std = (0.229, 0.224, 0.225)
    "caffe"   x[..., ::-1] - (103.939, 116.779, 123.68)       Keras' VGG16/19 and ResNet50 (BGR, mean-centred)
    "tf"      x / 127.5 - 1                                   Keras' MobileNet; torchvision's GoogLeNet
"""

import numpy as np

MODES = ("caffe", "tf", "torch")
TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def preprocess_input(x, data_format=None, mode="caffe"):
    """A new float32 array: x (..., 3) scaled and centred for `mode` ("caffe", the Keras default, "tf" or "torch").

    data_format: None or "channels_last" (striate is channels-last). x is not changed (Keras changes a float
    array in place).
    """
    if mode not in MODES:
        raise ValueError(f"preprocess_input: mode must be one of {MODES}; received {mode!r}")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"preprocess_input: striate is channels-last; received data_format={data_format!r}")
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"preprocess_input: x must hold numbers; received dtype {x.dtype}")
    if mode != "tf" and (x.ndim == 0 or x.shape[-1] != 3):
        raise ValueError(f"preprocess_input: mode={mode!r} centres 3 colour channels (last axis); received shape "
                         f"{x.shape}")
    x = x.astype(np.float32)
    if mode == "tf":
        return x / np.float32(127.5) - np.float32(1)
    if mode == "torch":
        return (x / np.float32(255) - TORCH_MEAN) / TORCH_STD
    return x[..., ::-1] - CAFFE_MEAN_BGR
