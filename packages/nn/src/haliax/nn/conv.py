"""Convolutions over any number of named spatial axes."""

from ._src.conv import Conv as Conv
from ._src.conv import ConvTranspose as ConvTranspose
