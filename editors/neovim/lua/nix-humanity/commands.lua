-- The :NixHumanity… user commands: requests in plain words, rebuilds, the generations list, cancel, and an
-- option's explanation. Each runs one of the server's `workspace/executeCommand` commands (or, for
-- :NixHumanityExplainOption, the `nix-humanity explain-option` command line) and reports the result with
-- `vim.notify`; edits come back as `workspace/applyEdit`, questions as `window/showMessageRequest`
-- (handlers.lua), progress as `$/progress`.
local M = {}

local levels = vim.log.levels
local REBUILDS = {
  NixHumanityDryBuild = { command = "nixHumanity.dryBuild", what = "dry-build: check that the system builds" },
  NixHumanityBuild = { command = "nixHumanity.build", what = "build the system" },
  NixHumanityTest = { command = "nixHumanity.test", what = "build and activate the system until the next boot" },
  NixHumanitySwitch = { command = "nixHumanity.switch", what = "build, activate and make the system the boot default" },
  NixHumanityBoot = { command = "nixHumanity.boot", what = "build and make the system the boot default" },
  NixHumanityDryActivate = { command = "nixHumanity.dryActivate", what = "show what activating would change" },
  NixHumanityBuildVm = { command = "nixHumanity.buildVm", what = "build a virtual machine of the system" },
  NixHumanityRollback = { command = "nixHumanity.rollback", what = "go back to the previous (or a given) generation" },
  NixHumanityGenerations = { command = "nixHumanity.listGenerations", what = "list the system generations" },
}
local OPTION_KEYS = { "flake", "host", "file", "targetHost", "buildHost", "generation" }
local QUIET = { ok = true, applied = true, proposed = true, noop = true, idle = true, cancelling = true }
local TROUBLE = { failed = true, error = true, ["timed-out"] = true, ["needs-root"] = true, unsupported = true }

local function present(value)
  return value ~= nil and value ~= vim.NIL
end

local function report(result)
  if type(result) ~= "table" then
    vim.notify("nix-humanity: the server answered " .. vim.inspect(result), levels.WARN)
    return
  end
  local lines = { "nix-humanity: " .. tostring(result.summary or result.status) }
  if type(result.generations) == "table" then
    for _, generation in ipairs(result.generations) do
      lines[#lines + 1] = string.format(
        "%s %4s  %s  NixOS %s  kernel %s",
        generation.current == true and "*" or " ",
        tostring(generation.id),
        present(generation.date) and generation.date or "",
        present(generation.nixosVersion) and generation.nixosVersion or "?",
        present(generation.kernel) and generation.kernel or "?"
      )
    end
  end
  if TROUBLE[result.status] and present(result.logFile) then
    lines[#lines + 1] = "log: " .. result.logFile
  end
  local level = QUIET[result.status] and levels.INFO or (TROUBLE[result.status] and levels.ERROR or levels.WARN)
  vim.notify(table.concat(lines, "\n"), level)
end

--- Run the server's `command` with `arguments`, from `bufnr`'s client (`any`: or any nix-humanity client).
local function execute(command, arguments, bufnr, any)
  local client = require("nix-humanity").client(bufnr, any)
  if client == nil then
    vim.notify("nix-humanity: the language server is not running for this buffer (it starts on Nix files)", levels.WARN)
    return
  end
  local params = { command = command, arguments = arguments }
  local function handler(err, result)
    if err ~= nil then
      vim.notify("nix-humanity: " .. command .. ": " .. tostring(err.message or vim.inspect(err)), levels.ERROR)
      return
    end
    report(result)
  end
  if vim.fn.has("nvim-0.11") == 1 then -- a method since 0.11, where the old call is deprecated
    client:request("workspace/executeCommand", params, handler, bufnr)
  else
    client.request("workspace/executeCommand", params, handler, bufnr)
  end
end

--- `key=value` words -> the rebuild commands' one argument; a bare number is the generation to roll back to.
local function rebuild_options(words, bufnr, rollback)
  local options = {}
  for _, word in ipairs(words) do
    local key, value = word:match("^(%w+)=(.*)$")
    if key == nil and rollback and word:match("^%d+$") then
      key, value = "generation", word
    end
    local allowed = rollback and OPTION_KEYS or vim.tbl_filter(function(k) return k ~= "generation" end, OPTION_KEYS)
    if key == nil or not vim.tbl_contains(allowed, key) then
      return nil, string.format("unknown argument `%s` (allowed: %s=)", word, table.concat(allowed, "=, "))
    end
    if key == "generation" then
      value = tonumber(value)
      if value == nil or value ~= math.floor(value) then
        return nil, "generation= takes a whole number"
      end
    end
    options[key] = value
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if options.file == nil and name ~= "" and require("nix-humanity").is_served(bufnr) then
    options.file = name -- the file being edited decides which configuration is built
  end
  return next(options) == nil and vim.empty_dict() or options
end

local function ask(args)
  local bufnr = vim.api.nvim_get_current_buf()
  execute("nixHumanity.ask", { { uri = vim.uri_from_bufnr(bufnr), text = args.args } }, bufnr, false)
end

local function rebuild(name)
  return function(args)
    local bufnr = vim.api.nvim_get_current_buf()
    local options, problem = rebuild_options(args.fargs, bufnr, name == "NixHumanityRollback")
    if options == nil then
      vim.notify(":" .. name .. ": " .. problem, levels.ERROR)
      return
    end
    execute(REBUILDS[name].command, { options }, bufnr, true)
  end
end

local function cancel()
  execute("nixHumanity.cancel", {}, vim.api.nvim_get_current_buf(), true)
end

--- The `nix-humanity` command line: `cli_cmd`, else `nix-humanity` beside a `cmd` that names `nix-humanity-ls`.
local function cli_cmd()
  local config = require("nix-humanity").config
  if config.cli_cmd then
    return vim.deepcopy(config.cli_cmd)
  end
  if #config.cmd == 1 and config.cmd[1]:match("nix%-humanity%-ls$") then
    return { (config.cmd[1]:gsub("%-ls$", "")) }
  end
  return { "nix-humanity" }
end

--- Show `nix-humanity explain-option PATH --json` in a floating window (the text hover shows), with the
--- `explanationStyle` and `nixpkgsPath` settings.
local function explain_option(args)
  local settings = require("nix-humanity").settings()
  local argv = cli_cmd()
  vim.list_extend(argv, { "explain-option", args.args, "--json" })
  if type(settings.explanationStyle) == "string" then
    vim.list_extend(argv, { "--style", settings.explanationStyle })
  end
  if type(settings.nixpkgsPath) == "string" then
    vim.list_extend(argv, { "--nixpkgs", settings.nixpkgsPath })
  end
  local output, errors = {}, {}
  local ok, job = pcall(vim.fn.jobstart, argv, {
    cwd = vim.fn.expand("%:p:h") ~= "" and vim.fn.expand("%:p:h") or nil,
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      output = data
    end,
    on_stderr = function(_, data)
      errors = data
    end,
    on_exit = function(_, code)
      local decoded_ok, found = pcall(vim.json.decode, table.concat(output, "\n"))
      if not decoded_ok or type(found) ~= "table" then
        local why = vim.trim(table.concat(errors, "\n"))
        vim.notify(string.format("nix-humanity: %s exited with %d%s", argv[1], code, why ~= "" and (": " .. why) or ""),
          levels.ERROR)
        return
      end
      if found.kind == "unknown" then
        local lines = { string.format("nix-humanity: `%s` is not a known option", found.option) }
        for _, suggestion in ipairs(found.suggestions or {}) do
          lines[#lines + 1] = string.format("  did you mean `%s`?", suggestion)
        end
        vim.notify(table.concat(lines, "\n"), levels.WARN)
        return
      end
      vim.lsp.util.open_floating_preview(vim.split(found.text, "\n", { plain = true }), "markdown",
        { focus_id = "nix-humanity-explain-option" })
    end,
  })
  if not ok or job <= 0 then
    vim.notify("nix-humanity: cannot run " .. table.concat(argv, " ") .. " (set cli_cmd in setup())", levels.ERROR)
  end
end

function M.create()
  local create = vim.api.nvim_create_user_command
  create("NixHumanityAsk", ask, { nargs = "+", desc = "nix-humanity: change this file as the words say" })
  for name, rebuild_command in pairs(REBUILDS) do
    create(name, rebuild(name), { nargs = "*", desc = "nix-humanity: " .. rebuild_command.what })
  end
  create("NixHumanityCancel", cancel, { nargs = 0, desc = "nix-humanity: stop the running rebuild" })
  create("NixHumanityExplainOption", explain_option, { nargs = 1, desc = "nix-humanity: explain a NixOS option" })
end

return M
