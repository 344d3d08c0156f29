// Audio threads of the talk page: the microphone in, the agent's voice out, both at the
// AudioContext's rate (24 kHz, the Realtime protocol's pcm16 rate).

// Microphone: 128-sample render quanta gathered into 20 ms blocks for the socket.
class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(Math.round(sampleRate * 0.02));
    this.filled = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (input) {
      let i = 0;
      while (i < input.length) {
        const n = Math.min(input.length - i, this.block.length - this.filled);
        this.block.set(input.subarray(i, i + n), this.filled);
        this.filled += n;
        i += n;
        if (this.filled === this.block.length) {
          this.port.postMessage(this.block.slice(0));
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

// The agent's voice: a queue of chunks played in order. `clear` stops at once (a barge-in) and
// reports how many samples of the current item were played, for conversation.item.truncate.
class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.played = 0;  // samples of the current item played
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === "audio") this.queue.push(m.samples);
      else if (m.type === "item") this.played = 0;
      else if (m.type === "clear") {
        this.queue = [];
        this.offset = 0;
        this.port.postMessage({ type: "cleared", played: this.played });
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length && this.queue.length) {
      const head = this.queue[0];
      const n = Math.min(out.length - i, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + n), i);
      i += n;
      this.offset += n;
      this.played += n;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    out.fill(0, i);
    return true;
  }
}

registerProcessor("parley-capture", Capture);
registerProcessor("parley-playback", Playback);
