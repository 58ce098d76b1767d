"""Stream recaps: one stream's figures, moments and comparisons as JSON or one offline HTML page."""
