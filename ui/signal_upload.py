"""The signal upload: a file the student drops becomes the sidebar's **Uploaded signal** on every page.

The state machine behind it: a new file resets the column and window chosen for the previous
one; a file that reads cleanly is stored (``ui.state.use_uploaded_signal``) and selected; a file
that cannot be used keeps its message, tied to that file, and the session's signal stays as it was.
Everything happens in the widgets' callbacks, before the next run draws the sidebar's picker.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires.data.uploads import UPLOAD_EXTENSIONS
from multires.data.uploads.checks import ParsedSignal, SignalError, window_signal
from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
from multires.plaintext import short
from ui import state
from ui.safe_text import plain
from ui.upload_worker import UploadCheckError, read_signal

__all__ = ["UPLOAD_KEY", "COLUMN_KEY", "START_KEY", "ERROR_KEY", "read_upload", "upload_choice", "upload_panel"]

UPLOAD_KEY, COLUMN_KEY, START_KEY, ERROR_KEY = "tree_upload", "tree_upload_column", "tree_upload_start", "tree_upload_error"


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(data: bytes, filename: str, column: str | None) -> tuple[ParsedSignal, bool]:
    """Parse an upload in a worker process (:mod:`ui.upload_worker`); a signal that is too long comes back
    whole with ``True`` (window it next). Raises ``SignalError`` or ``UploadCheckError``."""
    return read_signal(data, filename, column)


def upload_choice(data: bytes, filename: str, column: str | None, start: int | None) -> tuple[str, np.ndarray]:
    """Name and values of an upload with the user's column and window choices (raises SignalError or
    UploadCheckError)."""
    parsed, too_long = read_upload(data, filename, column)
    name, values = filename, parsed.values
    if len(parsed.columns) > 1:
        name += f" · {parsed.column}"
    if too_long:
        first = min(max(int(start or 0), 0), values.size - MAX_SIGNAL_LENGTH)
        values = window_signal(values, first, MAX_SIGNAL_LENGTH)
        name += f" · samples {first}–{first + MAX_SIGNAL_LENGTH - 1}"
    return name, values


def _file_identity(file) -> tuple:
    """Tells two uploads apart, even two files with the same name."""
    return getattr(file, "file_id", None), file.name, file.size


def _sync(new_file: bool = False) -> None:
    """Callback of the upload widgets: read the file with the current choices and select it in the sidebar."""
    if new_file:  # choices made for the previous file do not apply to this one
        state.drop(COLUMN_KEY)
        state.drop(START_KEY)
    file = state.get(UPLOAD_KEY)
    if file is None:
        state.drop(ERROR_KEY)
        return
    try:
        name, values = upload_choice(file.getvalue(), file.name, state.get(COLUMN_KEY), state.get(START_KEY))
    except (SignalError, UploadCheckError) as error:
        state.put(ERROR_KEY, (_file_identity(file), f"Could not use {short(file.name)}: {error}"))
        return
    state.drop(ERROR_KEY)
    state.use_uploaded_signal(name, values)


def upload_panel() -> None:
    """The uploader, then (for the current file) its message, column picker and window slider."""
    st.markdown("**Use your own signal:** upload CSV, TXT, NPY or WAV.")
    file = st.file_uploader(
        "Signal file", type=[e.lstrip(".") for e in UPLOAD_EXTENSIONS], key=UPLOAD_KEY,
        on_change=_sync, kwargs={"new_file": True},
        help=f"One column of numbers (CSV/TXT), a 1-D NumPy array (.npy) or PCM audio (.wav, averaged to mono). "
             f"Files up to {MAX_UPLOAD_BYTES / 1e6:g} MB; up to {MAX_SIGNAL_LENGTH} samples are shown, longer signals "
             "offer a window.",
    )
    # The message of a refused file is shown only while that file is the current one: a file the
    # browser refused (too large) or a removed file must not leave an earlier file's error behind.
    stored = state.get(ERROR_KEY)
    error = stored[1] if file is not None and stored is not None and stored[0] == _file_identity(file) else None
    if error:
        st.error(plain(error))
    elif file is not None:
        try:
            parsed, too_long = read_upload(file.getvalue(), file.name, state.get(COLUMN_KEY))
        except (SignalError, UploadCheckError) as problem:  # only if the file changed without its callback running
            st.error(plain(f"Could not use {short(file.name)}: {problem}"))
        else:
            if len(parsed.columns) > 1:
                st.selectbox(f"{parsed.axis.capitalize()} to use", parsed.columns,
                             index=parsed.columns.index(parsed.column), key=COLUMN_KEY, on_change=_sync,
                             format_func=str, help=f"The file has several numeric {parsed.axis}s; pick the one to analyse.")
            if too_long:
                st.slider(f"Window start (the file has {parsed.values.size} samples; {MAX_SIGNAL_LENGTH} are used)",
                          0, parsed.values.size - MAX_SIGNAL_LENGTH, 0, step=1, key=START_KEY,
                          on_change=_sync, help="First sample of the window that is analysed.")
            if parsed.note:
                st.caption(plain(f"Read {short(file.name)}: {parsed.note}."))
    st.caption("A file that reads cleanly becomes the sidebar's **Uploaded signal** and is used on every page. "
               f"A file over {MAX_UPLOAD_BYTES / 1e6:g} MB is refused by the browser itself: it shows as a red chip "
               "(hover it for the reason) and the previous file, and any message about it, stays.")
