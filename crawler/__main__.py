"""`python -m crawler` runs the kyran command line."""

from crawler.cli import main

main()
