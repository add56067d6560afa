// A receiver written exactly like RealCast's Node/Express example, on Node's own `http` and `crypto`
// (no npm packages). express.json() parses the body; the handler then signs JSON.stringify(req.body),
// not the raw bytes, so this only passes if our bodies survive a JavaScript parse/stringify round trip.
//
// Usage: WEBHOOK_SECRET=... node realcast_receiver.js   (prints "listening <port>")
// GET /received answers what was received: [{event, webhook_id, data, status}].
const http = require('http');
const crypto = require('crypto');

const received = [];

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const expectedSignature = 'sha256=' + hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expectedSignature)
  );
}

// The guide's handler, unchanged but for `res.status(x).send(y)` → `reply(res, x, y)`.
function handler(req, res) {
  const signature = req.headers['x-realcast-signature'];
  const payload = JSON.stringify(req.body);

  // Verify webhook signature
  let ok;
  try {
    ok = verifySignature(payload, signature, process.env.WEBHOOK_SECRET);
  } catch (err) {  // timingSafeEqual throws on a length mismatch; Express would answer 500
    received.push({ event: null, webhook_id: req.headers['x-realcast-webhook-id'], status: 500, error: String(err) });
    return reply(res, 500, 'Error');
  }
  if (!ok) {
    received.push({ event: null, webhook_id: req.headers['x-realcast-webhook-id'], status: 401 });
    return reply(res, 401, 'Invalid signature');
  }

  // Process event
  const { event, data } = req.body;
  let handled;
  switch (event) {
    case 'stream.live':
      handled = `Stream ${data.stream_id} went live`;
      break;
    case 'stream.offline':
      handled = `Stream ${data.stream_id} ended`;
      break;
    case 'viewer.joined':
      handled = `New viewer: ${data.viewer_id}`;
      break;
    default:
      handled = `Unhandled event: ${event}`;
  }
  received.push({ event, data, handled, webhook_id: req.headers['x-realcast-webhook-id'], status: 200 });

  // Always respond with 200 to acknowledge receipt
  reply(res, 200, 'OK');
}

function reply(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(received));
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    // What express.json() does: parse the body as UTF-8 JSON into req.body.
    try {
      req.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return reply(res, 400, 'Bad JSON');
    }
    handler(req, res);
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
