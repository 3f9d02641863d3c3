-- Runs one test body inside a real headless Neovim started by tests/test_neovim_plugin.py, then writes what
-- it saw to the JSON file $NIX_HUMANITY_TEST_OUT and quits (exit 0 also on failure: the file says).
--
-- It keeps what the plugin told the user (vim.notify calls, apart from the server's own window/showMessage,
-- and transient echoes; both still reach Neovim's own functions), and stands in for the user at
-- vim.ui.select: it picks the item whose title is T.answer (or the T.answer-th item when that is a number)
-- and keeps the question.
T = { result = { notified = {}, server_messages = {}, echoed = {}, questions = {} }, answer = nil }

local notify, echo = vim.notify, vim.api.nvim_echo
vim.notify = function(message, level, opts)
  -- Neovim shows the server's own window/showMessage as "LSP[name][type] …"; the plugin's messages are the rest
  local list = message:match("^LSP%[") and T.result.server_messages or T.result.notified
  table.insert(list, { message = message, level = level or vim.log.levels.INFO })
  return notify(message, level, opts)
end
vim.api.nvim_echo = function(chunks, history, opts)
  local text = {}
  for _, chunk in ipairs(chunks) do
    text[#text + 1] = chunk[1]
  end
  table.insert(T.result.echoed, table.concat(text))
  return echo(chunks, history, opts)
end
vim.ui.select = function(items, opts, on_choice)
  local titles = {}
  for i, item in ipairs(items) do
    titles[i] = opts.format_item and opts.format_item(item) or tostring(item)
  end
  table.insert(T.result.questions, { prompt = opts.prompt, items = titles, kind = opts.kind })
  for i, title in ipairs(titles) do
    if title == T.answer or i == T.answer then
      return on_choice(items[i], i)
    end
  end
  return on_choice(nil, nil)
end

--- Wait until `condition()` is true (Neovim keeps serving the LSP client meanwhile), else fail saying `what`.
function T.wait(condition, what, ms)
  if not vim.wait(ms or 60000, condition, 20) then
    error("timed out waiting for " .. what, 2)
  end
end

--- The client of the current buffer, once it has been initialized.
function T.attached()
  local client
  T.wait(function()
    client = require("nix-humanity").client(0)
    return client ~= nil and client.initialized
  end, "the nix-humanity client to attach")
  return client
end

--- Run the Ex command `command`, then wait for the plugin's next vim.notify and return its message.
function T.notified_after(command, ms)
  local before = #T.result.notified
  vim.cmd(command)
  T.wait(function()
    return #T.result.notified > before
  end, "a message after :" .. command, ms)
  return T.result.notified[before + 1].message
end

function T.lines(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), "\n")
end

function T.run(body)
  local ok, problem = xpcall(body, debug.traceback)
  if not ok then
    T.result.error = problem
  end
  T.result.messages = vim.api.nvim_exec("messages", true)
  local file = assert(io.open(os.getenv("NIX_HUMANITY_TEST_OUT"), "w"))
  file:write(vim.fn.json_encode(T.result))
  file:close()
  vim.cmd("qall!")
end
