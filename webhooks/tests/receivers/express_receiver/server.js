// RealCast's Node.js / Express receivers, as its webhook guide writes them, on one app.
//
// /webhooks/realcast is the guide's Quick Start handler, unchanged. The guide's other handlers
// (idempotency, "Example Use Cases") are mounted beside it on paths of their own, since they all
// use the same path in the guide; their outside services (e-mail, Discord, a database) are stubs
// that print what they were given. Only the port differs: PORT instead of 3000.
//
// Every console.log line goes to stdout, which the test reads.
const express = require('express');
const crypto = require('crypto');

const app = express();
app.use(express.json());

app.post('/webhooks/realcast', (req, res) => {
  const signature = req.headers['x-realcast-signature'];
  const payload = JSON.stringify(req.body);
  
  // Verify webhook signature
  if (!verifySignature(payload, signature, process.env.WEBHOOK_SECRET)) {
    return res.status(401).send('Invalid signature');
  }
  
  // Process event
  const { event, data } = req.body;
  
  switch (event) {
    case 'stream.live':
      console.log(`Stream ${data.stream_id} went live`);
      // Notify users, update database, etc.
      break;
      
    case 'stream.offline':
      console.log(`Stream ${data.stream_id} ended`);
      // Archive stream, send email, etc.
      break;
      
    case 'viewer.joined':
      console.log(`New viewer: ${data.viewer_id}`);
      break;
      
    default:
      console.log(`Unhandled event: ${event}`);
  }
  
  // Always respond with 200 to acknowledge receipt
  res.status(200).send('OK');
});

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const expectedSignature = 'sha256=' + hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expectedSignature)
  );
}

// --- Implement Idempotency ---------------------------------------------------------------

const processedWebhooks = new Set();

app.post('/webhooks/realcast/idempotent', (req, res) => {
  const webhookId = req.headers['x-realcast-webhook-id'];
  
  if (processedWebhooks.has(webhookId)) {
    console.log('Duplicate webhook, skipping');
    return res.status(200).send('OK');
  }
  
  processedWebhooks.add(webhookId);
  
  // Process webhook
  console.log(`Processing webhook ${webhookId}`);
  
  res.status(200).send('OK');
});

// --- Example Use Cases, with stubs for the outside services ------------------------------

async function sendEmail(message) {
  console.log('EMAIL ' + JSON.stringify(message));
}

const axios = {
  post: async (url, body) => console.log('DISCORD ' + JSON.stringify(body)),
};

const db = {
  streams: {
    update: async (row) => console.log('DB ' + JSON.stringify(row)),
  },
};

app.post('/webhooks/realcast/email', async (req, res) => {
  const { event, data } = req.body;
  
  if (event === 'stream.offline') {
    await sendEmail({
      to: 'streamer@example.com',
      subject: 'Your stream has ended',
      body: `
        Your stream ended after ${data.duration / 60} minutes
        with ${data.peak_viewers} peak viewers.
        
        View analytics: https://dashboard.realcast.io/streams/${data.stream_id}
      `
    });
  }
  
  res.status(200).send('OK');
});

app.post('/webhooks/realcast/discord', async (req, res) => {
  const { event, data } = req.body;
  
  if (event === 'stream.live') {
    await axios.post(process.env.DISCORD_WEBHOOK_URL, {
      content: `@everyone ${data.title} is now live! Watch at: https://watch.example.com/${data.stream_id}`
    });
  }
  
  res.status(200).send('OK');
});

app.post('/webhooks/realcast/database', async (req, res) => {
  const { event, data } = req.body;
  
  switch (event) {
    case 'stream.live':
      await db.streams.update({
        id: data.stream_id,
        status: 'live',
        started_at: data.started_at
      });
      break;
      
    case 'viewer.count.update':
      await db.streams.update({
        id: data.stream_id,
        viewer_count: data.viewer_count
      });
      break;
  }
  
  res.status(200).send('OK');
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
