"""`python -m nix_humanity_ls` starts the language server, like `nix-humanity-ls`."""

import sys

from .lsp.main import main

sys.exit(main())
