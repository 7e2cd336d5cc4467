"""Charts, one module per analysis. Every function takes tidy data first, column roles as
keywords, an optional ``ax``, and returns the Axes (or Figure) it drew on."""
