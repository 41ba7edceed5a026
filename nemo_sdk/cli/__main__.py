"""``python -m nemo_sdk.cli``: the ``nemo`` command."""

from . import main

if __name__ == "__main__":
    main()
