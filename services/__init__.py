"""Applications (one per bounded context), transcodings and the plain-data records they emit."""
