/* The agency page: the agencies' API from a browser tab. The key stays in this tab's
   sessionStorage; every call carries it, the stated purpose and the officer (percent-encoded
   UTF-8 headers), and so is checked and written to the access log like any API call. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "gongshi.agency.key", OFFICER = "gongshi.agency.officer";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  function message(box, value, error) {
    box.textContent = "";
    box.appendChild(text("p", value, error ? "agency-error" : "agency-note"));
  }

  function headers(extra, purposeOverride) {
    var h = { "Authorization": "Bearer " + sessionStorage.getItem(KEY) };
    var purpose = purposeOverride || $("purpose").value.trim();
    h["X-Purpose"] = encodeURIComponent(purpose);
    var officer = sessionStorage.getItem(OFFICER);
    if (officer) h["X-Officer"] = encodeURIComponent(officer);
    if ($("confidential").checked) h["X-Confidential"] = "1";
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  function purposeOk(box) {
    if ($("purpose").value.trim().length < 4) {
      message(box, "请先填写查询目的（至少 4 个字）", true);
      $("purpose").focus();
      return false;
    }
    return true;
  }

  function call(method, path, options) {
    options = options || {};
    return fetch(path, { method: method, headers: headers(options.headers, options.purpose), body: options.body }).then(function (r) {
      if (r.ok) return r;
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) { sessionStorage.removeItem(KEY); show(); }
        throw new Error(body.message || ("请求失败（" + r.status + "）"));
      });
    });
  }

  function download(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = "下载 " + name;
    a.className = "button secondary";
    return a;
  }

  function table(head, rows) {
    var t = document.createElement("table");
    var tr = document.createElement("tr");
    head.forEach(function (h) { tr.appendChild(text("th", h)); });
    var thead = document.createElement("thead"); thead.appendChild(tr); t.appendChild(thead);
    var body = document.createElement("tbody");
    rows.forEach(function (row) {
      var r = document.createElement("tr");
      row.forEach(function (cell) { r.appendChild(text("td", cell)); });
      body.appendChild(r);
    });
    t.appendChild(body);
    return t;
  }

  function show() {
    var key = sessionStorage.getItem(KEY);
    $("agency-login").hidden = !!key;
    $("agency-work").hidden = !key;
    if (key) {
      $("agency-who").textContent = "密钥 " + key.slice(0, 12) + "…" + (sessionStorage.getItem(OFFICER) ? "（经办人 " + sessionStorage.getItem(OFFICER) + "）" : "");
      loadMeasures();
    }
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("agency-key").value.trim());
    sessionStorage.setItem(OFFICER, $("agency-officer").value.trim());
    $("agency-key").value = "";
    show();
  });
  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY); sessionStorage.removeItem(OFFICER); show();
  });

  /* the record as of a date */
  function lookupPath(suffix) {
    var uscc = encodeURIComponent($("lookup-uscc").value.trim());
    return "/api/v1/agency/entities/" + uscc + (suffix || "") + "?as_of=" + encodeURIComponent($("lookup-date").value);
  }
  // the mandate a fact was accepted under: its department's kinds on the day the publication arrived
  function mandateText(provenance) {
    var m = (provenance || {}).mandate;
    if (!m) return "";
    var since = m.in_force_from ? m.in_force_from + " 起" : "初始职权";
    return (m.department_name || m.department) + "（" + m.arrived_on + " 收到；" + since + "）：" + m.kinds.join("、") + (m.allows_kind === false ? "（不含本类）" : "");
  }
  $("lookup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("lookup-result");
    if (!purposeOk(box)) return;
    message(box, "查询中…");
    call("GET", lookupPath()).then(function (r) { return r.json(); }).then(function (doc) {
      box.textContent = "";
      box.appendChild(text("h3", doc.name + "（" + doc.uscc + "）"));
      box.appendChild(text("p", "截至 " + doc.as_of + "：" + doc.status + "；标记：" + (doc.flags.join("、") || "无") + "；记录第 " + doc.version + " 版，事件位置 " + doc.position));
      var rep = (doc.registration || {}).legal_representative || {};
      box.appendChild(text("p", "法定代表人：" + (rep.name || "") + " " + (rep.id_number || "")));
      box.appendChild(table(["决定书文号", "违法行为", "决定日期", "状态", "来源", "依据职权"], (doc.penalties || []).map(function (p) {
        return [p.decision_no, p.violation, p.decided_on, p.state, (p.provenance || {}).department + " · 位置 " + (p.provenance || {}).position, mandateText(p.provenance)];
      })));
      var lists = [].concat(doc.abnormal_listings || [], doc.serious_listings || []);
      box.appendChild(table(["名录", "文号", "列入日期", "移出日期", "依据职权"], lists.map(function (l) {
        return [l.reason, l.decision_no, l.listed_on, (l.removed || {}).on || "", mandateText(l.provenance)];
      })));
      var reg = (doc.registered_by || {}).provenance;
      if (reg && reg.mandate) box.appendChild(text("p", "成立登记依据职权：" + mandateText(reg)));
      if ((doc.feedback || []).length) {
        box.appendChild(table(["措施", "采取的措施", "日期", "机构"], doc.feedback.map(function (f) {
          return [f.measure, f.action, f.applied_on, f.agency_name || f.agency];
        })));
      }
    }).catch(function (e) { message(box, e.message, true); });
  });
  $("lookup-pdf").addEventListener("click", function () {
    var box = $("lookup-result");
    if (!purposeOk(box)) return;
    call("GET", lookupPath("/extract.pdf")).then(function (r) { return r.blob(); }).then(function (blob) {
      message(box, "内部信用信息报告已生成：");
      box.appendChild(download(blob, "internal-extract-" + $("lookup-uscc").value.trim() + ".pdf"));
    }).catch(function (e) { message(box, e.message, true); });
  });

  /* batch matching: CSV up, CSV down */
  $("match-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("match-result");
    if (!purposeOk(box)) return;
    var form = new FormData();
    form.append("file", $("match-file").files[0]);
    message(box, "比对中…");
    call("POST", "/api/v1/agency/match", { body: form, headers: { "Accept": "text/csv" } })
      .then(function (r) { return r.blob(); })
      .then(function (blob) {
        return blob.text().then(function (csv) {
          var rows = csv.trim().split(/\r?\n/).length - 1;
          message(box, "已比对 " + rows + " 行：");
          box.appendChild(download(blob, "match-results.csv"));
        });
      }).catch(function (e) { message(box, e.message, true); });
  });

  /* screening */
  var measuresLoaded = false;
  function loadMeasures() {
    if (measuresLoaded) return;
    call("GET", "/api/v1/agency/measures", { purpose: "加载联合惩戒措施列表" }).then(function (r) { return r.json(); }).then(function (list) {
      measuresLoaded = true;
      ["screen-measure", "feedback-measure"].forEach(function (id) {
        var select = $(id);
        select.textContent = "";
        list.forEach(function (m) {
          var o = document.createElement("option"); o.value = m.code; o.textContent = m.name; select.appendChild(o);
        });
      });
    }).catch(function () {});
  }
  function lines(value) {
    return value.split(/\s+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }
  $("screen-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("screen-result");
    if (!purposeOk(box)) return;
    var body = JSON.stringify({ measure: $("screen-measure").value, entities: lines($("screen-usccs").value) });
    call("POST", "/api/v1/agency/screen", { body: body, headers: { "Content-Type": "application/json" } })
      .then(function (r) { return r.json(); }).then(function (res) {
        box.textContent = "";
        box.appendChild(text("p", res.measure_name + "（版本 " + (res.version || "—") + "）截至 " + res.as_of + "：受限 " + res.restricted + " 家"));
        var t = table(["统一社会信用代码", "名称", "是否受限", "原因与依据", ""], res.results.map(function (r) {
          return [r.uscc, r.name || (r.found ? "" : "本平台无该主体"), r.restricted ? "受限" : "不受限",
            r.reasons.map(function (x) { return x.label + "：" + (x.record.decision_no || "") + "（" + x.basis.document + x.basis.articles + "）"; }).join("；"), ""];
        }));
        var cells = t.querySelectorAll("tbody tr");
        res.results.forEach(function (r, i) {
          if (!r.restricted) return;
          var b = text("button", "反馈措施", "button secondary");
          b.type = "button";
          b.setAttribute("aria-label", "反馈措施（对 " + r.uscc + " 采取的）");
          b.addEventListener("click", function () {
            $("feedback-uscc").value = r.uscc;
            $("feedback-measure").value = res.measure;
            var basis = (r.reasons[0] || {}).basis || {};
            if (!$("feedback-basis").value) $("feedback-basis").value = (basis.document || "") + (basis.articles || "");
            $("feedback-action").focus();
          });
          cells[i].lastChild.appendChild(b);
        });
        box.appendChild(t);
      }).catch(function (e) { message(box, e.message, true); });
  });

  /* feedback: the measure applied to an entity (联合奖惩) */
  $("feedback-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("feedback-result");
    if (!purposeOk(box)) return;
    var body = { uscc: $("feedback-uscc").value.trim(), measure: $("feedback-measure").value,
      action: $("feedback-action").value.trim(), applied_on: $("feedback-date").value };
    ["basis", "reference"].forEach(function (k) {
      var v = $("feedback-" + k).value.trim();
      if (v) body[k] = v;
    });
    call("POST", "/api/v1/agency/feedback", { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })
      .then(function (r) { return r.json(); }).then(function (f) {
        message(box, "已记录反馈：" + f.uscc + " · " + f.action + "（" + f.applied_on + "）");
        $("feedback-action").value = "";
      }).catch(function (e) { message(box, e.message, true); });
  });

  /* watchlists */
  function loadWatchlists() {
    call("GET", "/api/v1/agency/watchlists").then(function (r) { return r.json(); }).then(function (list) {
      var ul = $("watch-list");
      ul.textContent = "";
      list.forEach(function (w) {
        var li = document.createElement("li");
        li.appendChild(text("span", w.name + "（" + w.uscc_count + " 家） "));
        var b = text("button", "查看变更", "button secondary");
        b.type = "button";
        b.addEventListener("click", function () { showChanges(w); });
        li.appendChild(b);
        var d = text("button", "删除", "button secondary");
        d.type = "button";
        d.setAttribute("aria-label", "删除关注名单“" + w.name + "”");
        d.addEventListener("click", function () { deleteWatchlist(w); });
        li.appendChild(text("span", " "));
        li.appendChild(d);
        ul.appendChild(li);
      });
    }).catch(function (e) { message($("watch-result"), e.message, true); });
  }
  function deleteWatchlist(w) {
    var box = $("watch-result");
    if (!purposeOk(box)) return;
    if (!window.confirm("删除关注名单“" + w.name + "”？其变更订阅和回调将停止，无法恢复。")) return;
    call("DELETE", "/api/v1/agency/watchlists/" + encodeURIComponent(w.id)).then(function () {
      message(box, "已删除关注名单“" + w.name + "”");
      $("watch-changes").textContent = "";
      loadWatchlists();
    }).catch(function (e) { message(box, e.message, true); });
  }
  function showChanges(w) {
    var box = $("watch-changes");
    if (!purposeOk(box)) return;
    call("GET", "/api/v1/agency/watchlists/" + encodeURIComponent(w.id) + "/changes?limit=200").then(function (r) { return r.text(); }).then(function (ndjson) {
      var changes = ndjson.split("\n").filter(Boolean).map(function (l) { return JSON.parse(l); });
      box.textContent = "";
      box.appendChild(text("h4", w.name + "：" + changes.length + " 条变更"));
      box.appendChild(table(["位置", "统一社会信用代码", "事件", "日期", "标记"], changes.map(function (c) {
        return [c.position, c.uscc, c.event || c.cause, c.occurred_on, (c.flags_after || []).join("、")];
      })));
    }).catch(function (e) { message(box, e.message, true); });
  }
  $("watch-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("watch-result");
    if (!purposeOk(box)) return;
    var body = JSON.stringify({ name: $("watch-name").value.trim(), usccs: lines($("watch-usccs").value) });
    call("POST", "/api/v1/agency/watchlists", { body: body, headers: { "Content-Type": "application/json" } })
      .then(function (r) { return r.json(); }).then(function (w) {
        message(box, "已新建关注名单“" + w.name + "”（" + w.uscc_count + " 家）");
        loadWatchlists();
      }).catch(function (e) { message(box, e.message, true); });
  });
  $("purpose").addEventListener("change", function () {
    if (sessionStorage.getItem(KEY) && $("purpose").value.trim().length >= 4) loadWatchlists();
  });

  show();
})();
