"""``python -m crossrank_cli``: the same as the ``crossrank`` command."""

from .main import main

if __name__ == "__main__":
    main()
