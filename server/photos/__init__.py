"""Photo bytes: resumable tus uploads, image checks, thumbnails, and serving to staff."""
