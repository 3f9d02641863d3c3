-- The LSP handlers the nix-humanity client uses instead of Neovim's defaults.
--
-- `$/progress`: Neovim's own handler still runs (statusline plugins keep working); the rebuild's progress is
-- also echoed in the message area, one line, replaced as it goes, kept out of the message history.
-- `window/showMessageRequest`: the server's questions (before a switch, boot or rollback; which of several
-- packages a request meant) are answered with `vim.ui.select`, so a picker plugin shows them. Neovim before
-- 0.11 asks with `inputlist()` and runs server requests outside a coroutine: there the answer must come
-- before the handler returns, which the built-in `vim.ui.select` does; a picker that answers later is waited
-- for (ANSWER_WAIT_MS), and no answer is "no".
local M = {}

local ANSWER_WAIT_MS = 30000
local titles = {} -- "<client id>:<token>" -> title of the running progress

local function one_line(text)
  text = text:gsub("%s*\n%s*", " ")
  local width = math.max(vim.v.echospace or vim.o.columns - 12, 20)
  if vim.fn.strdisplaywidth(text) > width then
    text = vim.fn.strcharpart(text, 0, width - 1) .. "…"
  end
  return text
end

function M.progress(err, result, ctx, config)
  local default = vim.lsp.handlers["$/progress"]
  if default ~= nil and default ~= M.progress then
    default(err, result, ctx, config)
  end
  if err ~= nil or type(result) ~= "table" or type(result.value) ~= "table" then
    return
  end
  local value = result.value
  local key = tostring(ctx.client_id) .. ":" .. tostring(result.token)
  if value.kind == "begin" then
    titles[key] = value.title
  end
  local text = titles[key] or "nix-humanity"
  if value.kind == "end" then
    titles[key] = nil
  end
  if type(value.message) == "string" and value.message ~= "" then
    text = text .. ": " .. value.message
  end
  if type(value.percentage) == "number" and value.kind ~= "end" then
    text = text .. string.format(" (%d%%)", value.percentage)
  end
  vim.api.nvim_echo({ { one_line(text) } }, false, {})
end

local function ask_user(actions, message, on_choice)
  vim.ui.select(actions, {
    prompt = message,
    kind = "nix-humanity",
    format_item = function(action)
      return action.title
    end,
  }, on_choice)
end

function M.show_message_request(_, params)
  local actions = type(params) == "table" and params.actions or nil
  if type(actions) ~= "table" or #actions == 0 then
    if type(params) == "table" and params.message then
      vim.notify(params.message)
    end
    return vim.NIL
  end
  local co, is_main = coroutine.running()
  if co ~= nil and not is_main then -- Neovim 0.11+: the reply waits for the coroutine
    ask_user(actions, params.message, function(choice)
      vim.schedule(function() -- after the yield below, also when vim.ui.select answers at once
        coroutine.resume(co, choice or vim.NIL)
      end)
    end)
    return coroutine.yield()
  end
  local answered, answer = false, vim.NIL
  ask_user(actions, params.message, function(choice)
    answered, answer = true, choice or vim.NIL
  end)
  if not answered then
    vim.wait(ANSWER_WAIT_MS, function()
      return answered
    end, 50)
  end
  return answer
end

--- The handlers for the client's config (Neovim's defaults serve everything else, `workspace/configuration`
--- and `workspace/applyEdit` included).
function M.handlers()
  return {
    ["$/progress"] = M.progress,
    ["window/showMessageRequest"] = M.show_message_request,
  }
end

return M
