-- nix-humanity: starts the nix-humanity-ls language server for Nix files and adds the :NixHumanity… commands.
--
-- Plain Lua on Neovim's own LSP client, no dependencies, Neovim 0.7 and later. Where `vim.lsp.start` exists
-- (0.8+) it starts the server and reuses it per root folder; on 0.7 the same is done by hand with
-- `vim.lsp.start_client` and `vim.lsp.buf_attach_client`. The settings go to the server twice, as Neovim
-- does it: as `initializationOptions` and, through `settings`, as the answer to `workspace/configuration`
-- (and the `workspace/didChangeConfiguration` Neovim sends after start).
local M = {}

local defaults = {
  name = "nix-humanity",
  cmd = { "nix-humanity-ls" },
  cmd_env = nil,
  cli_cmd = nil, -- the `nix-humanity` command (:NixHumanityExplainOption); default: beside `cmd`
  filetypes = { "nix" },
  root_markers = { "flake.nix", ".git" },
  settings = {},
  capabilities = nil,
  on_attach = nil,
}

M.config = nil
local clients_by_root = {} -- Neovim 0.7 only: root folder -> client id

--- The settings' contents, whether given as the `nixHumanity` section or as what is in it.
function M.settings()
  local settings = M.config and M.config.settings or {}
  if type(settings.nixHumanity) == "table" then
    return settings.nixHumanity
  end
  return settings
end

--- The nearest folder above the buffer's file with one of `root_markers`, else the file's own folder.
local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return vim.loop.cwd()
  end
  local start = vim.fn.fnamemodify(name, ":p:h")
  local dir = start
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return start
    end
    dir = parent
  end
end

local function client_config(bufnr)
  local contents = M.settings()
  local section = { nixHumanity = next(contents) == nil and vim.empty_dict() or contents }
  return {
    name = M.config.name,
    cmd = M.config.cmd,
    cmd_env = M.config.cmd_env,
    root_dir = root_dir(bufnr),
    init_options = section,
    settings = section,
    capabilities = M.config.capabilities,
    handlers = require("nix-humanity.handlers").handlers(),
    on_attach = M.config.on_attach,
  }
end

--- Start the server for `bufnr` (default: the current buffer), or attach the buffer to the one already
--- running for its root folder. Returns the client id, or nil when the server could not be started.
function M.start(bufnr)
  assert(M.config, "call require('nix-humanity').setup() first")
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  if vim.bo[bufnr].buftype ~= "" then
    return nil -- help, terminal and scratch buffers are no files to serve
  end
  local config = client_config(bufnr)
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients_by_root[config.root_dir]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(config)
    if id == nil then
      return nil -- start_client has said why
    end
    clients_by_root[config.root_dir] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- The running nix-humanity client attached to `bufnr`; with `any`, else any running nix-humanity client.
function M.client(bufnr, any)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local clients = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
  local other
  for _, client in ipairs(clients) do
    if client.name == M.config.name then
      if vim.lsp.buf_is_attached(bufnr, client.id) then
        return client
      end
      other = other or client
    end
  end
  return any and other or nil
end

--- Whether the plugin serves `bufnr` (its filetype is one of `filetypes`).
function M.is_served(bufnr)
  return vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype)
end

--- Set the plugin up: `opts` overrides the defaults above (see :help nix-humanity-setup).
function M.setup(opts)
  opts = opts or {}
  vim.validate({
    cmd = { opts.cmd, "table", true },
    cli_cmd = { opts.cli_cmd, "table", true },
    cmd_env = { opts.cmd_env, "table", true },
    filetypes = { opts.filetypes, "table", true },
    root_markers = { opts.root_markers, "table", true },
    settings = { opts.settings, "table", true },
    capabilities = { opts.capabilities, "table", true },
    on_attach = { opts.on_attach, "function", true },
  })
  M.config = vim.tbl_extend("force", defaults, opts)

  local group = vim.api.nvim_create_augroup("nix-humanity", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
    desc = "start nix-humanity-ls",
  })
  require("nix-humanity.commands").create()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do -- buffers opened before setup()
    if vim.api.nvim_buf_is_loaded(bufnr) and M.is_served(bufnr) then
      M.start(bufnr)
    end
  end
end

return M
