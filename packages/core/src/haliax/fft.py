"""Discrete Fourier transforms over named axes."""

from ._src.ops.fft import AxisMapping as AxisMapping
from ._src.ops.fft import AxisSizeLike as AxisSizeLike
from ._src.ops.fft import fft as fft
from ._src.ops.fft import fftfreq as fftfreq
from ._src.ops.fft import fftshift as fftshift
from ._src.ops.fft import hfft as hfft
from ._src.ops.fft import ifft as ifft
from ._src.ops.fft import ifftshift as ifftshift
from ._src.ops.fft import ihfft as ihfft
from ._src.ops.fft import irfft as irfft
from ._src.ops.fft import rfft as rfft
from ._src.ops.fft import rfftfreq as rfftfreq
