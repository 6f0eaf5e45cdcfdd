// Loaded with `node --import` into a child process: its clock reads TEST_CLOCK_OFFSET_MS ahead (or behind),
// so an end-to-end test can start `serve` at a chosen moment of a period (a wave's time) without waiting for it.
const offset = Number(process.env.TEST_CLOCK_OFFSET_MS ?? 0);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + offset;
