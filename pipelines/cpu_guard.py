"""Imported by the CPU pool's fork server only (``pipelines.cpu.PRELOAD``): the fork server
exits when the crawl process that started it is gone, even after a SIGKILL."""

from pipelines.cpu import exit_with_parent

exit_with_parent()
