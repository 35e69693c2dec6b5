/*
 * The webhooks page: GitHub's settings page for hooks, and the module's
 * figures.  It reads and changes hooks through the public REST API and
 * reads the figures as JSON, with the browser's credentials, as any
 * client would.  Whatever it reads goes on the page as text
 * (textContent), never as HTML.
 */
'use strict';

(function () {
    var statusPath = location.pathname;
    var EVENTS = ['push', 'pull_request', 'pull_request_review',
        'pull_request_review_comment', 'issues', 'issue_comment', 'create',
        'delete', 'release', 'fork', 'star', 'watch', 'status',
        'check_run', 'check_suite', 'deployment', 'deployment_status',
        'workflow_run', 'workflow_job', 'label', 'milestone', 'member',
        'public', 'repository', 'discussion', 'meta'];

    var state = { scope: null, repo: false, base: '', hook: null,
                  delivery: null };

    function $(id) { return document.getElementById(id); }

    function el(tag, text, cls) {
        var e = document.createElement(tag);
        if (text !== undefined && text !== null) e.textContent = String(text);
        if (cls) e.className = cls;
        return e;
    }

    function show(id, on) { $(id).hidden = !on; }

    function flash(text, ok) {
        var f = $('flash');
        f.textContent = text;
        f.className = 'flash ' + (ok ? 'ok' : 'error');
        f.hidden = !text;
    }

    /* GitHub's error body as one line: its message and its errors */
    function problem(res) {
        var j = res.json || {}, parts = [];
        (j.errors || []).forEach(function (e) {
            if (typeof e === 'string') parts.push(e);
            else if (e.message) parts.push(e.message);
            else parts.push([e.resource, e.field, e.code].filter(Boolean)
                                                     .join(' '));
        });
        return (j.message || ('HTTP ' + res.status))
               + (parts.length ? ': ' + parts.join('; ') : '');
    }

    function api(method, path, body) {
        var opts = { method: method, credentials: 'same-origin',
                     headers: { Accept: 'application/vnd.github+json' } };
        if (body !== undefined) {
            opts.headers['Content-Type'] = 'application/json';
            opts.body = JSON.stringify(body);
        }
        return fetch(state.base + path, opts).then(function (res) {
            return res.text().then(function (t) {
                var j = null;
                try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
                return { status: res.status, ok: res.ok, json: j };
            });
        });
    }

    function hooksPath() {
        return (state.repo ? '/repos/' : '/orgs/') + state.scope + '/hooks';
    }

    function hookPath(id) { return hooksPath() + '/' + id; }

    /* the list */

    function lastResponse(h) {
        var l = h.last_response || {};
        if (l.code === null || l.code === undefined) return '—';
        return l.code + ' ' + (l.message || l.status || '');
    }

    function loadHooks() {
        return api('GET', hooksPath()).then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            var tbody = el('tbody');
            res.json.forEach(function (h) {
                var tr = el('tr'), a = el('a', h.config.url);
                a.href = '#';
                a.className = 'hook-link';
                a.dataset.id = h.id;
                a.addEventListener('click', function (ev) {
                    ev.preventDefault();
                    openHook(h.id);
                });
                var td = el('td');
                td.appendChild(a);
                tr.appendChild(td);
                tr.appendChild(el('td', h.events.join(', ')));
                tr.appendChild(el('td', h.active ? 'active' : 'inactive'));
                tr.appendChild(el('td', lastResponse(h)));
                var b = el('button', 'Edit');
                b.type = 'button';
                b.addEventListener('click', function () { editHook(h); });
                td = el('td');
                td.appendChild(b);
                tr.appendChild(td);
                tr.dataset.id = h.id;
                tbody.appendChild(tr);
            });
            var t = $('hooks');
            t.replaceChild(tbody, t.tBodies[0]);
            show('hooks-section', true);
        });
    }

    function openScope(ev) {
        if (ev) ev.preventDefault();
        var s = $('scope').value.trim().replace(/^\/+|\/+$/g, '');
        if (!s) return;
        state.scope = s;
        state.repo = s.indexOf('/') > 0;
        state.base = $('api-base').value.trim().replace(/\/+$/, '');
        $('scope-name').textContent = s;
        $('hook-test').hidden = !state.repo;
        history.replaceState(null, '', '#' + encodeURIComponent(s)
            + (state.base ? '@' + encodeURIComponent(state.base) : ''));
        flash('');
        show('form-section', false);
        show('hook-section', false);
        loadHooks();
    }

    /* add and edit */

    function eventBoxes(chosen) {
        var list = $('event-list'), all = EVENTS.slice();
        chosen.forEach(function (e) {
            if (e !== '*' && all.indexOf(e) < 0) all.push(e);
        });
        list.textContent = '';
        all.forEach(function (e) {
            var l = el('label'), c = el('input');
            c.type = 'checkbox';
            c.name = 'event';
            c.value = e;
            c.checked = chosen.indexOf(e) >= 0;
            l.appendChild(c);
            l.appendChild(document.createTextNode(' ' + e));
            list.appendChild(l);
        });
    }

    function fillForm(h) {
        var f = $('hook-form'), c = h ? h.config : {};
        var events = h ? h.events : ['push'];
        f.url.value = c.url || '';
        f.content_type.value = c.content_type || 'form';
        f.secret.value = '';
        f.keep_secret.checked = !!(h && c.secret);
        $('keep-secret-label').hidden = !(h && c.secret);
        f.querySelector('input[name=insecure_ssl][value="'
            + (c.insecure_ssl === '1' ? '1' : '0') + '"]').checked = true;
        var which = events.indexOf('*') >= 0 ? 'all'
                    : (events.length === 1 && events[0] === 'push') ? 'push'
                    : 'some';
        f.querySelector('input[name=which][value=' + which + ']')
         .checked = true;
        eventBoxes(events);
        $('event-list').hidden = which !== 'some';
        f.active.checked = h ? !!h.active : true;
    }

    function addHook() {
        state.hook = null;
        fillForm(null);
        $('form-title').textContent = 'Add webhook';
        $('form-submit').textContent = 'Add webhook';
        show('hook-section', false);
        show('form-section', true);
    }

    function editHook(h) {
        state.hook = h;
        fillForm(h);
        $('form-title').textContent = 'Edit webhook ' + h.id;
        $('form-submit').textContent = 'Update webhook';
        show('hook-section', false);
        show('form-section', true);
    }

    function chosenEvents(f) {
        var which = f.querySelector('input[name=which]:checked').value;
        if (which === 'push') return ['push'];
        if (which === 'all') return ['*'];
        return Array.prototype.filter.call(
            f.querySelectorAll('input[name=event]'),
            function (c) { return c.checked; })
            .map(function (c) { return c.value; });
    }

    function submitHook(ev) {
        ev.preventDefault();
        var f = $('hook-form'), h = state.hook, body, events;
        var config = { url: f.url.value, content_type: f.content_type.value,
            insecure_ssl: f.querySelector('input[name=insecure_ssl]:checked')
                           .value };
        if (!h || !f.keep_secret.checked || f.secret.value) {
            config.secret = f.secret.value;
        }
        events = chosenEvents(f);
        body = { config: config, active: f.active.checked };

        if (!h) {
            body.name = 'web';
            body.events = events;
        } else if (state.repo) {
            /* events added and removed, as GitHub's page sends them */
            var add = events.filter(function (e) {
                return h.events.indexOf(e) < 0; });
            var remove = h.events.filter(function (e) {
                return events.indexOf(e) < 0; });
            if (add.length) body.add_events = add;
            if (remove.length) body.remove_events = remove;
        } else {
            body.events = events;
        }

        /*
         * an edit sends the config apart: PATCH of .../config merges it,
         * so that a secret left out is kept
         */
        var first = h ? api('PATCH', hookPath(h.id) + '/config', config)
                      : Promise.resolve({ ok: true });

        if (h) delete body.config;

        first.then(function (res) {
            if (!res.ok) return res;
            return api(h ? 'PATCH' : 'POST', h ? hookPath(h.id) : hooksPath(),
                       body);
        })
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            flash(h ? 'Okay, the webhook was updated.'
                    : 'Okay, that hook was created.', true);
            show('form-section', false);
            loadHooks().then(function () { openHook(res.json.id); });
        });
    }

    /* one hook and its deliveries */

    function openHook(id) {
        return api('GET', hookPath(id)).then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            state.hook = res.json;
            $('hook-title').textContent = res.json.id + ' '
                                          + res.json.config.url;
            $('hook-toggle').textContent = res.json.active ? 'Deactivate'
                                                           : 'Activate';
            show('form-section', false);
            show('delivery', false);
            show('hook-section', true);
            return loadDeliveries();
        });
    }

    function loadDeliveries() {
        var h = state.hook;
        if (!h) return Promise.resolve();
        return api('GET', hookPath(h.id) + '/deliveries?per_page=30')
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            var tbody = el('tbody');
            res.json.forEach(function (d) {
                var tr = el('tr'), a = el('a', d.guid);
                a.href = '#';
                a.addEventListener('click', function (ev) {
                    ev.preventDefault();
                    openDelivery(d.id);
                });
                tr.appendChild(el('td', d.status_code >= 200
                                        && d.status_code < 300 ? '✔' : '✖',
                                  d.status_code >= 200 && d.status_code < 300
                                  ? 'good' : 'bad'));
                var td = el('td');
                td.appendChild(a);
                tr.appendChild(td);
                tr.appendChild(el('td', d.event
                                        + (d.action ? '.' + d.action : '')));
                tr.appendChild(el('td', d.status_code + ' ' + d.status));
                tr.appendChild(el('td', d.delivered_at));
                tr.appendChild(el('td', d.duration + ' s'));
                tr.appendChild(el('td', d.redelivery ? 'redelivery' : ''));
                tr.dataset.id = d.id;
                tr.dataset.guid = d.guid;
                tbody.appendChild(tr);
            });
            var t = $('deliveries');
            t.replaceChild(tbody, t.tBodies[0]);
            /* the list's last responses follow */
            return loadHooks();
        });
    }

    function headers(h) {
        return Object.keys(h || {}).map(function (k) {
            return k + ': ' + h[k];
        }).join('\n');
    }

    function openDelivery(id) {
        return api('GET', hookPath(state.hook.id) + '/deliveries/' + id)
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            var d = res.json, req = d.request || {}, resp = d.response || {};
            state.delivery = d;
            $('delivery-guid').textContent = d.guid;
            $('delivery-url').textContent = 'POST ' + (d.url || '');
            $('request-headers').textContent = headers(req.headers);
            $('request-payload').textContent =
                JSON.stringify(req.payload, null, 2);
            $('response-code').textContent = d.status_code + ' ' + d.status;
            $('response-headers').textContent = headers(resp.headers);
            $('response-body').textContent = resp.payload === null
                ? '' : String(resp.payload);
            show('delivery', true);
        });
    }

    function redeliver() {
        var d = state.delivery;
        api('POST', hookPath(state.hook.id) + '/deliveries/' + d.id
                    + '/attempts')
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            flash('Redelivery of ' + d.guid + ' requested.', true);
            setTimeout(loadDeliveries, 1000);
        });
    }

    function action(method, suffix, done) {
        return api(method, hookPath(state.hook.id) + suffix)
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            flash(done, true);
            setTimeout(loadDeliveries, 1000);
        });
    }

    function toggle() {
        var h = state.hook;
        api('PATCH', hookPath(h.id), { active: !h.active })
        .then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            flash(res.json.active ? 'The webhook is active.'
                                  : 'The webhook was deactivated.', true);
            loadHooks();
            openHook(h.id);
        });
    }

    function remove() {
        var h = state.hook;
        api('DELETE', hookPath(h.id)).then(function (res) {
            if (!res.ok) { flash(problem(res)); return; }
            flash('Okay, that webhook was deleted.', true);
            state.hook = null;
            show('hook-section', false);
            loadHooks();
        });
    }

    /* the figures, live */

    function row(tbody, name, value) {
        var tr = el('tr');
        tr.appendChild(el('td', name));
        tr.appendChild(el('td', value, 'n'));
        tbody.appendChild(tr);
    }

    function figures() {
        fetch(statusPath + '?format=json',
              { headers: { Accept: 'application/json' },
                credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (doc) {
            if (!doc) return;
            var tbody = el('tbody');
            Object.keys(doc).forEach(function (k) {
                var v = doc[k];
                if (typeof v === 'number') {
                    row(tbody, k, v);
                } else if (Array.isArray(v)) {
                    v.forEach(function (n, i) {
                        row(tbody, k + ' {worker ' + i + '}', n);
                    });
                } else if (v && v.buckets) {
                    row(tbody, k + ' (count)', v.count);
                    row(tbody, k + ' (sum)', v.sum.toFixed(3));
                } else if (v) {
                    Object.keys(v).forEach(function (l) {
                        row(tbody, k + ' {' + l + '}', v[l]);
                    });
                }
            });
            var t = $('figures-table');
            t.replaceChild(tbody, t.tBodies[0]);
            $('figures-age').textContent = 'as of '
                                           + new Date().toLocaleTimeString();
        })
        .catch(function () {});
    }

    function start() {
        $('scope-form').addEventListener('submit', openScope);
        $('hook-form').addEventListener('submit', submitHook);
        $('add-hook').addEventListener('click', addHook);
        $('form-cancel').addEventListener('click', function () {
            show('form-section', false);
        });
        $('hook-edit').addEventListener('click', function () {
            editHook(state.hook);
        });
        $('hook-ping').addEventListener('click', function () {
            action('POST', '/pings', 'Ping sent.');
        });
        $('hook-test').addEventListener('click', function () {
            action('POST', '/tests', 'Test push sent.');
        });
        $('hook-toggle').addEventListener('click', toggle);
        $('hook-delete').addEventListener('click', remove);
        $('hook-back').addEventListener('click', function () {
            show('hook-section', false);
        });
        $('deliveries-reload').addEventListener('click', loadDeliveries);
        $('redeliver').addEventListener('click', redeliver);
        $('hook-form').which.forEach(function (r) {
            r.addEventListener('change', function () {
                $('event-list').hidden = r.value !== 'some';
            });
        });

        if (location.hash.length > 1) {
            var h = location.hash.slice(1).split('@');
            $('scope').value = decodeURIComponent(h[0]);
            $('api-base').value = h[1] ? decodeURIComponent(h[1]) : '';
            openScope();
        }

        figures();
        setInterval(figures, 2000);
    }

    start();
}());
