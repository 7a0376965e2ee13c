/* The sandbox's host side of the ZAF SDK's cross-frame protocol (zendesk_app_framework_sdk
   2.0.x, lib/client.js): messages are JSON strings; the SDK checks that each answer comes from
   window.parent and from the `origin` it was given, and the host checks the app's iframe and
   origin in turn. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("zaf-data").textContent);
  var box = document.getElementById("comment-box");

  function frameOf(event) {
    var guid = null;
    Object.keys(data.frames).forEach(function (candidate) {
      var iframe = document.getElementById("app-" + candidate);
      if (iframe && iframe.contentWindow === event.source && data.frames[candidate].origin === event.origin) {
        guid = candidate;
      }
    });
    return guid;
  }

  function send(guid, message) {
    var iframe = document.getElementById("app-" + guid);
    iframe.contentWindow.postMessage(JSON.stringify(message), data.frames[guid].origin);
  }

  function get(paths) {
    var result = { errors: {} };
    paths.forEach(function (path) {
      if (Object.prototype.hasOwnProperty.call(data.values, path)) { result[path] = data.values[path]; }
      else { result.errors[path] = { name: "ApiError", message: "Could not find the path " + path }; }
    });
    return result;
  }

  var actions = {
    "ticket.comment.appendText": function (text) { box.value = box.value + text; box.dispatchEvent(new Event("input")); },
    "comment.appendText": function (text) { box.value = box.value + text; box.dispatchEvent(new Event("input")); },
    "resize": function () {}
  };

  function invoke(calls) {
    var result = { errors: {} };
    Object.keys(calls).forEach(function (name) {
      if (actions[name]) { actions[name].apply(null, calls[name]); result[name] = null; }
      else { result.errors[name] = { name: "ApiError", message: "Unknown action " + name }; }
    });
    return result;
  }

  // client.request: the SDK posts `request:N` with jQuery-style options and waits for the
  // events `request:N.done` (data, textStatus, jqXHR) or `request:N.fail` (jqXHR, ...).
  function request(guid, key, options) {
    var url = typeof options === "string" ? options : options.url;
    var reply = function (outcome, args) { send(guid, { key: "zaf." + key + "." + outcome, message: { responseArgs: args } }); };
    if (!/^\/api\/v2\//.test(url)) {
      reply("fail", [{ status: 0, responseText: "the sandbox proxies only this account's /api/v2" }, "error", "Forbidden"]);
      return;
    }
    var init = { method: (options.type || "GET").toUpperCase(), headers: { Authorization: data.auth } };
    if (options.data !== undefined) {
      init.headers["Content-Type"] = options.contentType || "application/json";
      init.body = typeof options.data === "string" ? options.data : JSON.stringify(options.data);
    }
    fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var xhr = { status: response.status, responseText: text };
        if (response.ok) { reply("done", [text ? JSON.parse(text) : null, "success", xhr]); }
        else { reply("fail", [xhr, "error", response.statusText]); }
      });
    });
  }

  window.addEventListener("message", function (event) {
    var guid = frameOf(event);
    if (!guid || typeof event.data !== "string") { return; }
    var msg;
    try { msg = JSON.parse(event.data); } catch (e) { return; }
    if (msg.key === "iframe.handshake") {
      var context = Object.assign({ instanceGuid: guid }, data.context);
      send(guid, { key: "zaf.app.registered", message: { context: context, metadata: data.frames[guid].metadata } });
    } else if (msg.request === "get") {
      send(guid, { id: msg.id, result: get(msg.params) });
    } else if (msg.request === "invoke") {
      send(guid, { id: msg.id, result: invoke(msg.params) });
    } else if (/^request:\d+$/.test(msg.key || "")) {
      request(guid, msg.key, msg.message);
    } else if (msg.request === "set") {
      send(guid, { id: msg.id, error: { name: "ApiError", message: "set is not supported by the sandbox" } });
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("form.zaf-launch"), function (form) { form.submit(); });
}());
