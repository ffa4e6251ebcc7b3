"""``.npy`` uploads: the header is checked before anything is allocated, and nothing is unpickled.

Examples
--------
>>> import io
>>> buffer = io.BytesIO()
>>> np.save(buffer, np.arange(8, dtype=np.int16))
>>> parse_npy(buffer.getvalue()).values
array([0., 1., 2., 3., 4., 5., 6., 7.])
"""

from __future__ import annotations

import io
import math

import numpy as np

from multires.data.uploads.checks import ParsedSignal, SignalError

__all__ = ["parse_npy"]

_PLAIN = "save a plain numeric 1-D array (float or int dtype) with numpy.save"


def parse_npy(data: bytes) -> ParsedSignal:
    """Read a NumPy ``.npy`` file as a signal (checked header first, ``allow_pickle=False``).

    Raises
    ------
    SignalError
        Corrupt or truncated files, object (pickled), structured/record, string or complex arrays,
        and arrays that are not 1-D (2-D arrays with a dimension of size 1 are squeezed).
    """
    stream = io.BytesIO(data)
    # Read and check the header ourselves first: np.load allocates the declared shape before it
    # reads, so a forged header could otherwise ask for gigabytes.
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise SignalError(
                f"the file is not a valid .npy array (format version {version[0]}.{version[1]} is not "
                f"supported); {_PLAIN}"
            )
    except SignalError:
        raise
    except Exception as error:  # numpy raises ValueError / EOFError / SyntaxError on bad headers
        raise SignalError(f"the file is not a valid .npy array ({error})") from None

    _check_dtype(dtype)
    _check_shape(shape)
    expected_bytes = math.prod(shape) * dtype.itemsize
    available = len(data) - stream.tell()
    if available < expected_bytes:
        raise SignalError(
            f"the .npy file is truncated: its header declares shape {shape} ({expected_bytes} bytes) "
            f"but only {available} bytes of data follow"
        )

    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # corrupt data after a valid-looking header
        raise SignalError(f"the .npy file could not be read ({error})") from None
    if not isinstance(array, np.ndarray):
        raise SignalError("the file is not a single .npy array")

    note = ""
    if array.ndim == 2:
        note = f"squeezed array of shape {array.shape} to 1-D"
        array = array.reshape(-1)
    return ParsedSignal(values=array.astype(np.float64), note=note)


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise SignalError(
            "the .npy file holds Python objects (a pickled object array); for safety it is not "
            f"loaded. {_PLAIN[0].upper()}{_PLAIN[1:]}"
        )
    if dtype.names is not None or dtype.subdtype is not None:
        raise SignalError(f"structured/record arrays are not supported; {_PLAIN}")
    if dtype.kind == "c":
        raise SignalError(f"the .npy array holds complex numbers; take the real part or the magnitude first, "
                          f"then {_PLAIN}")
    if dtype.kind not in "biuf":
        kind = {"U": "text", "S": "bytes", "M": "dates", "m": "time spans", "V": "raw bytes"}.get(dtype.kind, "non-numbers")
        raise SignalError(f"the .npy array holds {kind}; only real numbers (bool, int, uint, float) are "
                          f"accepted: {_PLAIN}")


def _check_shape(shape: tuple[int, ...]) -> None:
    expected = "a 1-D array is expected (or 2-D with one dimension of size 1)"
    if len(shape) == 0:
        raise SignalError(f"the .npy file holds a single number (shape ()); {expected}")
    if len(shape) == 2 and 1 not in shape:
        raise SignalError(f"the .npy array has shape {shape}; {expected}")
    if len(shape) > 2:
        raise SignalError(f"the .npy array has {len(shape)} dimensions, shape {shape}; {expected}")
