"""Streamlit glue for the app: cached loaders and session state. The maths lives in ``multires``."""
