"""Charts, one module per analysis. Every function takes tidy data first, column roles as
keywords, an optional ``ax``, and returns the Axes (or Figure) it drew on."""


def axes_for(ax, size: tuple[float, float]):
    """``ax``, or the Axes of a new figure of ``size`` inches when ``ax`` is None."""
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.subplots(figsize=size)[1]


def text_colour(background) -> str:
    """Dark or white text, whichever reads better on ``background`` (any matplotlib colour):
    the one with the higher WCAG contrast ratio against it.

    Examples
    --------
    >>> text_colour("#08306b"), text_colour("#deebf7")
    ('white', '#1a202c')
    """
    from matplotlib.colors import to_rgb

    def luminance(colour) -> float:
        channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    dark, back = "#1a202c", luminance(background)
    on_white = (1.05) / (back + 0.05)
    on_dark = (back + 0.05) / (luminance(dark) + 0.05)
    return "white" if on_white > on_dark else dark
