/* the webhooks page: reads the status JSON and the REST API only, and
 * puts what it reads on the page as text, never as HTML */
'use strict';

(function () {
    var status = location.pathname;

    function el(tag, text, cls) {
        var e = document.createElement(tag);
        if (text !== undefined) e.textContent = String(text);
        if (cls) e.className = cls;
        return e;
    }

    function row(tbody, name, value) {
        var tr = el('tr');
        tr.appendChild(el('td', name));
        tr.appendChild(el('td', value, 'n'));
        tbody.appendChild(tr);
    }

    function figures() {
        fetch(status + '?format=json', { headers: { Accept: 'application/json' },
                                        credentials: 'same-origin' })
        .then(function (res) { return res.json(); })
        .then(function (doc) {
            var tbody = document.createElement('tbody');
            Object.keys(doc).forEach(function (k) {
                var v = doc[k];
                if (typeof v === 'number') {
                    row(tbody, k, v);
                } else if (Array.isArray(v)) {
                    v.forEach(function (n, i) {
                        row(tbody, k + '{worker="' + i + '"}', n);
                    });
                } else if (v && v.buckets) {
                    row(tbody, k + ' count', v.count);
                    row(tbody, k + ' sum', v.sum);
                } else if (v) {
                    Object.keys(v).forEach(function (l) {
                        row(tbody, k + ' ' + l, v[l]);
                    });
                }
            });
            var t = document.getElementById('figures-table');
            t.replaceChild(tbody, t.tBodies[0]);
            document.getElementById('figures-age').textContent =
                'at ' + new Date().toLocaleTimeString();
        })
        .catch(function () {});
    }

    figures();
    setInterval(figures, 2000);
}());
