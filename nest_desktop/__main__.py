import sys

from nest_desktop.app import main

sys.exit(main())
