"""Local files: resumable downloads, the render journal, media type sniffing."""
