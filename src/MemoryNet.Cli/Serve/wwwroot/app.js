// MemoryNet page: choose or drop a photo, pick a task/model, upload with progress, then compare before/after.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const fileInput = $('file'), drop = $('drop'), modelSelect = $('model'), bitsSelect = $('bits'), restoreButton = $('restore');
  const statusRow = $('status-row'), progress = $('progress'), statusText = $('status'), errorBox = $('error');
  const result = $('result'), compare = $('compare'), before = $('before'), after = $('after'), slider = $('slider');
  const download = $('download'), summary = $('summary');
  let file = null, beforeUrl = null, afterUrl = null, busy = false, timer = null;

  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }
  function setStatus(text, percent) {
    statusRow.hidden = false;
    statusText.textContent = text;
    if (percent === null) progress.removeAttribute('value'); else progress.value = percent;
  }
  function updateButton() { restoreButton.disabled = busy || !file || !modelSelect.value; }

  async function loadModels() {
    try {
      const r = await fetch('v1/models');
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

  function restore() {
    if (!file || busy) return;
    busy = true; updateButton(); showError('');
    const form = new FormData();
    form.append('image', file, file.name);
    const [kind, name] = modelSelect.value.split(/:(.*)/s);
    form.append(kind, name);
    if (bitsSelect.value) form.append('bits', bitsSelect.value);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'v1/restore');
    xhr.responseType = 'blob';
    const started = performance.now();
    setStatus('Uploading… 0%', 0);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) { const p = Math.round(100 * e.loaded / e.total); setStatus(`Uploading… ${p}%`, p); }
    };
    xhr.upload.onload = () => {
      const t0 = performance.now();
      setStatus('Restoring…', null);
      timer = setInterval(() => setStatus(`Restoring… ${((performance.now() - t0) / 1000).toFixed(0)} s`, null), 1000);
    };
    xhr.onerror = () => finish(() => showError('The connection failed (is the server running? is the file larger than its upload limit?).'));
    xhr.onload = () => finish(async () => {
      if (xhr.status === 200) { show(xhr.response, (performance.now() - started) / 1000); return; }
      let message = `HTTP ${xhr.status}`;
      try { message = JSON.parse(await xhr.response.text()).error || message; } catch (_) { /* not JSON */ }
      showError(message);
    });
    xhr.send(form);
  }

  function finish(then) {
    clearInterval(timer); timer = null;
    busy = false; updateButton();
    statusRow.hidden = true;
    then();
  }

  function show(blob, seconds) {
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
    summary.textContent = `${modelSelect.options[modelSelect.selectedIndex].text} · ${seconds.toFixed(1)} s · ${(blob.size / 1048576).toFixed(2)} MB PNG`;
    slider.value = 50; move();
  }

  function move() { compare.style.setProperty('--pos', slider.value + '%'); }

  slider.addEventListener('input', move);
  fileInput.addEventListener('change', () => choose(fileInput.files[0]));
  modelSelect.addEventListener('change', updateButton);
  restoreButton.addEventListener('click', restore);
  for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.remove('over'); });
  drop.addEventListener('drop', (e) => choose(e.dataTransfer.files[0]));
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  loadModels();
})();
