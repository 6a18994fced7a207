// MemoryNet page: choose or drop a photo, pick a task/model, upload and restore with progress, then compare before/after.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const fileInput = $('file'), drop = $('drop'), modelSelect = $('model'), bitsSelect = $('bits'), ensembleSelect = $('ensemble'), restoreButton = $('restore');
  const statusRow = $('status-row'), progress = $('progress'), statusText = $('status'), errorBox = $('error');
  const result = $('result'), compare = $('compare'), before = $('before'), after = $('after'), slider = $('slider');
  const download = $('download'), summary = $('summary'), cancelButton = $('cancel');
  const keyRow = $('key-row'), keyInput = $('key');
  let file = null, beforeUrl = null, afterUrl = null, busy = false, timer = null;
  // a server started with --api-key wants it on every API call: asked for once, kept for this tab
  let apiKey = sessionStorage.getItem('memorynet-api-key') || '';
  const auth = () => (apiKey ? { 'X-API-Key': apiKey } : {});
  const api = (path, options = {}) => fetch(path, { ...options, headers: { ...auth(), ...(options.headers || {}) } });

  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }
  function setStatus(text, percent) {
    statusRow.hidden = false;
    statusText.textContent = text;
    if (percent === null) progress.removeAttribute('value'); else progress.value = percent;
  }
  function updateButton() { restoreButton.disabled = busy || !file || !modelSelect.value; }

  async function loadModels() {
    try {
      const r = await api('v1/models');
      if (r.status === 401) {
        keyRow.hidden = false;
        showError(apiKey ? 'The API key was refused.' : 'This server needs an API key.');
        return;
      }
      keyRow.hidden = true;
      showError('');
      const data = await r.json();
      modelSelect.textContent = '';
      for (const t of data.tasks) {
        const o = new Option(t.available ? `${t.task} (${t.model})` : `${t.task} — not installed`, 'task:' + t.task);
        o.disabled = !t.available;
        modelSelect.add(o);
      }
      for (const m of data.models) {
        const o = new Option(`model ${m.name}` + (m.task ? ` [${m.task}]` : '') + ` · ${m.arch}`, 'model:' + m.name);
        modelSelect.add(o);
        if (m.default) o.selected = true;
      }
      if (!data.default) { const first = [...modelSelect.options].find((o) => !o.disabled); if (first) first.selected = true; }
      if (!data.models.length) showError('This server has no models: start it with --model FILE or install models/<task>.safetensors.');
    } catch (e) {
      showError('Cannot list the models: ' + e);
    }
    updateButton();
  }

  function choose(f) {
    if (!f) return;
    file = f;
    $('filename').textContent = `${f.name} · ${(f.size / 1048576).toFixed(2)} MB`;
    showError('');
    updateButton();
    if (!restoreButton.disabled) restore();
  }

  // A restore is a job (POST v1/jobs): the upload shows its progress, then the server's tiles done of the total
  // (GET v1/jobs/{id}, polled) until the result is fetched; Cancel deletes the job, which stops after the current tile.
  let job = null;

  function restore() {
    if (!file || busy) return;
    busy = true; updateButton(); showError('');
    const form = new FormData();
    form.append('image', file, file.name);
    const [kind, name] = modelSelect.value.split(/:(.*)/s);
    form.append(kind, name);
    if (bitsSelect.value) form.append('bits', bitsSelect.value);
    if (ensembleSelect.value !== 'none') form.append('ensemble', ensembleSelect.value);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'v1/jobs');
    if (apiKey) xhr.setRequestHeader('X-API-Key', apiKey);
    xhr.responseType = 'text';
    const started = performance.now();
    setStatus('Uploading… 0%', 0);
    cancelButton.hidden = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) { const p = Math.round(100 * e.loaded / e.total); setStatus(`Uploading… ${p}%`, p); }
    };
    xhr.upload.onload = () => setStatus('Waiting for the server…', null);
    xhr.onerror = () => finish(() => showError('The connection failed (is the server running? is the file larger than its upload limit?).'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.response); } catch (_) { /* not JSON */ }
      if (xhr.status !== 202 || !body) { finish(() => showError((body && body.error) || `HTTP ${xhr.status}`)); return; }
      job = body.id;
      cancelButton.hidden = false;
      poll(started);
    };
    xhr.send(form);
  }

  async function poll(started) {
    const id = job;
    try {
      const r = await api(`v1/jobs/${id}`, { cache: 'no-store' });
      const j = await r.json();
      if (id !== job) return; // cancelled meanwhile
      if (!r.ok) { finish(() => showError(j.error || `HTTP ${r.status}`)); return; }
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      const { done, total } = j.progress;
      if (j.state === 'queued') setStatus(`Waiting for a free slot… ${seconds} s`, null);
      else if (j.state === 'running' && total > 1) setStatus(`Restoring… ${done} of ${total} tiles · ${seconds} s`, Math.round(100 * done / total));
      else if (j.state === 'running') setStatus(`Restoring… ${seconds} s`, null);
      if (j.state === 'done') {
        const res = await api(`v1/jobs/${id}/result`);
        if (!res.ok) { finish(() => showError(`HTTP ${res.status}`)); return; }
        const blob = await res.blob();
        api(`v1/jobs/${id}`, { method: 'DELETE' }); // the server may drop the result now
        finish(() => show(blob, (performance.now() - started) / 1000, total, j.ensemble));
      } else if (j.state === 'failed' || j.state === 'cancelled') {
        finish(() => showError(j.error || `The restore was ${j.state}.`));
      } else {
        timer = setTimeout(() => poll(started), 400);
      }
    } catch (e) {
      finish(() => showError('Lost the connection to the server: ' + e));
    }
  }

  function cancel() {
    if (!job) return;
    api(`v1/jobs/${job}`, { method: 'DELETE' });
    finish(() => showError('Cancelled.'));
  }

  function finish(then) {
    clearTimeout(timer); timer = null;
    job = null;
    busy = false; updateButton();
    statusRow.hidden = true;
    then();
  }

  function show(blob, seconds, tiles, ensemble) {
    if (beforeUrl) URL.revokeObjectURL(beforeUrl);
    if (afterUrl) URL.revokeObjectURL(afterUrl);
    beforeUrl = URL.createObjectURL(file);
    afterUrl = URL.createObjectURL(blob);
    after.onload = () => { result.hidden = false; result.scrollIntoView({ behavior: 'smooth', block: 'nearest' }); };
    before.src = beforeUrl;
    after.src = afterUrl;
    const stem = file.name.replace(/\.[^.]*$/, '') || 'image';
    download.href = afterUrl;
    download.download = `${stem}-restored.png`;
    summary.textContent = `${modelSelect.options[modelSelect.selectedIndex].text} · ${seconds.toFixed(1)} s` +
      (ensemble && ensemble !== 'none' ? ` · self-ensemble ${ensemble}` : '') +
      (tiles > 1 ? ` · ${tiles} tiles` : '') + ` · ${(blob.size / 1048576).toFixed(2)} MB PNG`;
    slider.value = 50; move();
  }

  function move() { compare.style.setProperty('--pos', slider.value + '%'); }

  slider.addEventListener('input', move);
  fileInput.addEventListener('change', () => choose(fileInput.files[0]));
  modelSelect.addEventListener('change', updateButton);
  restoreButton.addEventListener('click', restore);
  cancelButton.addEventListener('click', cancel);
  $('key-use').addEventListener('click', () => {
    apiKey = keyInput.value.trim();
    sessionStorage.setItem('memorynet-api-key', apiKey);
    loadModels();
  });
  for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.remove('over'); });
  drop.addEventListener('drop', (e) => choose(e.dataTransfer.files[0]));
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  loadModels();
})();
