// Follow a job's progress from a web page: ticket -> WebSocket -> events.
//
// A browser cannot set headers on a WebSocket, and an API key must never go in a URL, so the
// page asks for a single-use ticket (POST /ws/ticket, with the key) and opens /ws?ticket=...
// Keep the key on your own server in production and let it hand tickets to the page; the
// page's origin must be listed in JOBCAST_CORS_ORIGINS.
//
//   followJob("http://127.0.0.1:8000", key, jobId, (p) => bar.value = p.percent)
//     .then((job) => console.log(job.status));

export async function followJob(baseUrl, apiKey, jobId, onProgress) {
  const answer = await fetch(`${baseUrl}/ws/ticket`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}` },
  });
  if (!answer.ok) throw new Error(`ticket refused: ${answer.status}`);
  const { ticket } = await answer.json();

  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws?ticket=${ticket}`);
  return new Promise((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", channel: `job.${jobId}` }));
    ws.onerror = () => reject(new Error("WebSocket failed"));
    ws.onmessage = (frame) => {
      const message = JSON.parse(frame.data);
      // The first message is a snapshot of the job; then its events as they happen. Progress
      // comes in job.progress and in the terminal events (job.succeeded: percent 100), which
      // are all a job shorter than one progress interval sends.
      const job = message.type === "snapshot" ? message.data : null;
      const progress = job ? job.progress : message.type.startsWith("job.") ? message.data : null;
      if (progress && progress.percent !== undefined) onProgress(progress);
      const status = job ? job.status : message.data && message.data.status;
      if (["succeeded", "failed", "cancelled"].includes(status)) {
        ws.close();
        resolve({ id: jobId, status });
      }
      if (message.type === "error") reject(new Error(`${message.code}: ${message.message}`));
    };
  });
}
