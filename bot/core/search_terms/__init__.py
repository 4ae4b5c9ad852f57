"""What text is indexed and searched as: words stemmed (English, Russian), Korean in pairs.

Pure Python and in the core, so the parse workers can make an article's search terms off the
event loop; storage's full-text search (storage.fulltext) indexes and queries these terms.
"""
