"""Charts, one module per analysis. Every function takes tidy data first, column roles as
keywords, an optional ``ax``, and returns the Axes (or Figure) it drew on."""


def axes_for(ax, size: tuple[float, float]):
    """``ax``, or the Axes of a new figure of ``size`` inches when ``ax`` is None."""
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.subplots(figsize=size)[1]
