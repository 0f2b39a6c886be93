// Camera capture: a live preview and a button that classifies the current frame.
export const cameraAvailable = () => Boolean(navigator.mediaDevices?.getUserMedia);

/** Start the camera into `video`; returns a stop function. Throws when access is refused. */
export async function startCamera(video) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  await video.play();
  return () => {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
}

/** The current frame as a PNG File, classified like any picked file. */
export async function captureFrame(video) {
  const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const stamp = new Date().toISOString().slice(11, 19).replaceAll(':', '');
  return new File([blob], `camera-${stamp}.png`, { type: 'image/png' });
}
