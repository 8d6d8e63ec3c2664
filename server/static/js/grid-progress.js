// Grid import progress: polls the job and reloads the page when it is done (CSP: no inline code).
(function () {
  const config = JSON.parse(document.getElementById("grid-progress-config").textContent);
  const bar = document.getElementById("bar");
  const count = document.getElementById("count");
  async function poll() {
    const r = await fetch(config.url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!r.ok) { setTimeout(poll, 2000); return; }
    const job = await r.json();
    bar.max = job.total || 1;
    bar.value = job.done;
    count.textContent = job.total ? Math.round(100 * job.done / job.total) + " %" : "";
    document.getElementById("stage").textContent = config.stages[job.stage] || job.stage;
    if (job.state === "done" || job.state === "failed") { location.reload(); return; }
    setTimeout(poll, 500);
  }
  poll();
})();
