"""``.wav`` uploads: uncompressed integer PCM read with the standard library, sizes checked first.

Examples
--------
>>> import io, wave
>>> buffer = io.BytesIO()
>>> with wave.open(buffer, "wb") as w:
...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
...     w.writeframes(np.array([0, 16384, -16384, 0] * 2, dtype="<i2").tobytes())
>>> parse_wav(buffer.getvalue()).values[:3]
array([ 0. ,  0.5, -0.5])
"""

from __future__ import annotations

import io
import struct
import wave

import numpy as np

from multires.data.uploads.checks import ParsedSignal, SignalError
from multires.options import MAX_WAV_SAMPLE_RATE

__all__ = ["parse_wav"]

_WAV_SCALE = {1: 2.0**7, 2: 2.0**15, 4: 2.0**31}
_WAV_DTYPE = {1: np.dtype("u1"), 2: np.dtype("<i2"), 4: np.dtype("<i4")}
_READ_ERRORS = (wave.Error, EOFError, struct.error, ValueError, OSError)


def parse_wav(data: bytes) -> ParsedSignal:
    """Read a PCM WAV file (8/16/32-bit) as a signal scaled to [-1, 1], channels averaged to mono.

    Raises
    ------
    SignalError
        Not plain PCM, not 8/16/32-bit, truncated, or a sample rate outside 1..384000 Hz.
    """
    try:
        reader = wave.open(io.BytesIO(data), "rb")
    except _READ_ERRORS as error:
        reason = str(error) or "the header is incomplete"
        raise SignalError(
            f"the file is not a readable PCM WAV file ({reason}); only uncompressed integer PCM "
            "(8, 16 or 32 bit) is accepted"
        ) from None
    with reader:
        channels = reader.getnchannels()
        sample_width = reader.getsampwidth()
        rate = reader.getframerate()
        frames = reader.getnframes()
        if sample_width not in _WAV_DTYPE:
            raise SignalError(
                f"the WAV file has {8 * sample_width}-bit samples; accepted: 8, 16 or 32-bit PCM"
            )
        if not 1 <= rate <= MAX_WAV_SAMPLE_RATE:
            raise SignalError(
                f"the WAV header declares a sample rate of {rate} Hz; accepted: 1 to {MAX_WAV_SAMPLE_RATE} Hz"
            )
        # The data chunk size in the header is unverified: compare it with the bytes really present
        # before asking wave for them, so a forged size never drives an allocation.
        declared = frames * channels * sample_width
        if declared > len(data):
            raise SignalError(
                f"the WAV header declares {frames} frames ({declared} bytes) but the file has only "
                f"{len(data)} bytes; it is truncated or its header is corrupt"
            )
        try:
            raw = reader.readframes(frames)
        except _READ_ERRORS as error:
            raise SignalError(f"the WAV sample data could not be read ({error})") from None
    if len(raw) != declared:
        raise SignalError(
            f"the WAV file is truncated: the header declares {frames} frames but only "
            f"{len(raw) // (channels * sample_width)} are present"
        )

    samples = np.frombuffer(raw, dtype=_WAV_DTYPE[sample_width]).astype(np.float64)
    if sample_width == 1:
        samples -= 128.0
    samples /= _WAV_SCALE[sample_width]
    notes = [f"{8 * sample_width}-bit WAV at {rate} Hz"]
    if channels > 1:
        samples = samples.reshape(frames, channels).mean(axis=1)
        notes.append(f"{'stereo' if channels == 2 else f'{channels}-channel'} WAV averaged to mono")
    return ParsedSignal(values=samples, sample_rate=rate, note="; ".join(notes))
