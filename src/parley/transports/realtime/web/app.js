// The talk page: microphone → /v1/realtime (OpenAI Realtime events) → the agent's voice, with the
// live transcript of both sides. No build step, no dependencies. parley's server decides turns
// (semantic_vad): when it says the caller started speaking over the agent, the page stops playing at
// once and tells the server how much was heard (conversation.item.truncate).
"use strict";

const RATE = 24000;
const $ = (id) => document.getElementById(id);
let call = null;

$("talk").onclick = () => (call ? call.end("ended") : start());
if (new URLSearchParams(location.search).has("autostart")) start();

function status(text) {
  $("status").textContent = text;
}

function line(id, who) {
  let el = document.getElementById("t-" + id);
  if (!el) {
    el = document.createElement("div");
    el.id = "t-" + id;
    el.className = "turn " + who;
    el.innerHTML = `<b>${who === "user" ? "You" : "Agent"}</b><span class="text pending">…</span>`;
    $("transcript").appendChild(el);
    el.scrollIntoView({ block: "end" });
  }
  return el.querySelector(".text");
}

function toBase64(float32) {
  const pcm = new Int16Array(float32.length);
  for (let i = 0; i < float32.length; i++) pcm[i] = Math.max(-1, Math.min(1, float32[i])) * 0x7fff;
  const bytes = new Uint8Array(pcm.buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  return Float32Array.from(pcm, (v) => v / 0x8000);
}

async function start() {
  const button = $("talk");
  button.disabled = true;
  status("starting the microphone…");
  try {
    call = await openCall();
    button.textContent = "End";
    button.classList.add("live");
  } catch (err) {
    status("could not start: " + (err.message || err));
    call = null;
  } finally {
    button.disabled = false;
  }
}

async function openCall() {
  const ctx = new AudioContext({ sampleRate: RATE });
  await ctx.audioWorklet.addModule("worklet.js");
  const mic = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  const capture = new AudioWorkletNode(ctx, "parley-capture", { numberOfOutputs: 1 });
  const mute = ctx.createGain();
  mute.gain.value = 0; // the worklet must be pulled, but the caller must not hear themselves
  ctx.createMediaStreamSource(mic).connect(capture).connect(mute).connect(ctx.destination);
  const playback = new AudioWorkletNode(ctx, "parley-playback", { numberOfInputs: 0, outputChannelCount: [1] });
  playback.connect(ctx.destination);
  await ctx.resume();

  const protocols = ["realtime"];
  const token = $("token").value.trim();
  if (token) protocols.push("openai-insecure-api-key." + token);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/realtime?model=parley`, protocols);
  const early = []; // microphone blocks captured before the socket opened: sent, not lost
  const send = (event) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
    else if (ws.readyState === WebSocket.CONNECTING) early.push(event);
  };
  let playing = null; // the assistant item whose audio is queued
  let cut = null; // the item a barge-in stopped, until the playback says how much was heard

  capture.port.onmessage = (e) => send({ type: "input_audio_buffer.append", audio: toBase64(e.data) });
  playback.port.onmessage = (e) => {
    if (e.data.type === "cleared" && cut) {
      const ms = Math.floor((e.data.played * 1000) / RATE);
      send({ type: "conversation.item.truncate", item_id: cut, content_index: 0, audio_end_ms: ms });
      cut = null;
    }
  };

  ws.onopen = () => {
    status("connected; preparing the agent…");
    const session = { type: "realtime" };
    const instructions = $("instructions").value.trim();
    if (instructions) session.instructions = instructions;
    send({ type: "session.update", session }); // the server builds the agent from this; audio waits
    early.splice(0).forEach(send);
  };
  ws.onmessage = (msg) => {
    const ev = JSON.parse(msg.data);
    switch (ev.type) {
      case "session.updated":
        status("listening — speak");
        break;
      case "input_audio_buffer.speech_started":
        if (playing) { // barge-in: silence now, then say how much of the reply was heard
          cut = playing;
          playing = null;
          playback.port.postMessage({ type: "clear" });
        }
        line(ev.item_id, "user");
        status("hearing you…");
        break;
      case "conversation.item.input_audio_transcription.completed": {
        const el = line(ev.item_id, "user");
        el.textContent = ev.transcript || "(nothing heard)";
        el.classList.remove("pending");
        break;
      }
      case "response.output_item.added":
        playing = ev.item.id;
        playback.port.postMessage({ type: "item" });
        line(ev.item.id, "agent");
        status("agent speaking");
        break;
      case "response.output_audio.delta":
        if (ev.item_id === playing) playback.port.postMessage({ type: "audio", samples: fromBase64(ev.delta) });
        break;
      case "response.output_audio_transcript.delta": {
        const el = line(ev.item_id, "agent");
        if (el.classList.contains("pending")) {
          el.textContent = "";
          el.classList.remove("pending");
        }
        el.textContent += ev.delta;
        break;
      }
      case "response.done":
        for (const item of ev.response.output || []) {
          if (ev.response.status === "cancelled") line(item.id, "agent").classList.add("cut");
        }
        status("listening — speak");
        break;
      case "error":
        status("server: " + ev.error.message);
        break;
    }
  };
  ws.onclose = (e) => {
    if (call) call.end(e.reason || "disconnected");
  };

  return {
    end(reason) {
      ws.close();
      mic.getTracks().forEach((t) => t.stop());
      ctx.close();
      call = null;
      status(reason);
      $("talk").textContent = "Start";
      $("talk").classList.remove("live");
    },
  };
}
