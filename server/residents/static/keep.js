// "Keep this link": copy it (clipboard, or a selection where the clipboard API is missing,
// as on plain http), or save it as a small text file; then drop ?new=1 from the address so
// a bookmark holds the clean link.
(function () {
  const copy = document.getElementById('copy-link');
  const save = document.getElementById('save-link');
  const state = document.getElementById('keep-state');
  if (!copy || !save) return;
  const say = (id) => {
    state.textContent = document.getElementById(id).content.textContent.trim();
    state.hidden = false;
  };
  copy.closest('.keep-actions').hidden = false;

  function fallbackCopy(text) {
    const area = Object.assign(document.createElement('textarea'), { value: text, readOnly: true });
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let done = false;
    try { done = document.execCommand('copy'); } catch { done = false; }
    area.remove();
    return done;
  }

  copy.addEventListener('click', async () => {
    const url = copy.dataset.url;
    try {
      await navigator.clipboard.writeText(url);
      say('msg-copied');
    } catch {
      say(fallbackCopy(url) ? 'msg-copied' : 'msg-copy-failed');
    }
  });

  save.addEventListener('click', () => {
    const body = `${save.dataset.text}\r\n${save.dataset.url}\r\n`;
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob([body], { type: 'text/plain;charset=utf-8' })),
      download: save.dataset.file,
    });
    document.body.append(link);
    link.click();
    link.remove();
    say('msg-saved');
  });

  const here = new URL(window.location.href);
  if (here.searchParams.has('new')) {
    here.searchParams.delete('new');
    here.searchParams.delete('texted');
    window.history.replaceState(null, '', here.pathname + here.search);
  }
})();
