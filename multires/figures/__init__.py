"""Plotly figure builders: plain data in, ``plotly.graph_objects.Figure`` out (no Streamlit).

One module per page's figures (``wavelets``, ``filters``, ``tree``, ``dilated_tree``,
``treeselect``, ``training``, ``compare``, ``study``); ``style`` holds the shared colours, labels
and figure styling, ``reduce`` draws what a chart's pixels can show.
"""
