"""Discrete Fourier transforms over named axes."""

from ._src.fft import AxisMapping as AxisMapping
from ._src.fft import AxisSizeLike as AxisSizeLike
from ._src.fft import fft as fft
from ._src.fft import fftfreq as fftfreq
from ._src.fft import fftshift as fftshift
from ._src.fft import hfft as hfft
from ._src.fft import ifft as ifft
from ._src.fft import ifftshift as ifftshift
from ._src.fft import ihfft as ihfft
from ._src.fft import irfft as irfft
from ._src.fft import rfft as rfft
from ._src.fft import rfftfreq as rfftfreq
