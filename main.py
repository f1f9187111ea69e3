"""NEST Desktop: python main.py [--database URL] [--demo]."""

import sys

from nest_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
