"""Products' own words: text embeddings, launch curves for new products, review sentiment.

Everything here is fitted on the shop's own catalogue and reviews inside the pipeline;
nothing downloads weights or vocabularies.
"""

from forecasting.text.embedding import DEFAULT_DIMENSIONS, TextEmbedding, product_text

__all__ = ["DEFAULT_DIMENSIONS", "TextEmbedding", "product_text"]
