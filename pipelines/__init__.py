"""Item pipelines, one concern each, in this order: normalize, language, translate, dedup,
store, index (see ``ITEM_PIPELINES`` in ``crawler/settings.py``)."""
