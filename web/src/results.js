// One card per image: thumbnail, top-k classes with probability bars, inference time. The card's data-*
// attributes are the machine-readable result (data-testid="prediction" or "error").
const percent = (score) => `${(score * 100).toFixed(1)}%`;

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function card(name, thumbnailUrl) {
  const item = element('li', { class: 'card', 'data-file': name });
  if (thumbnailUrl) item.append(element('img', { src: thumbnailUrl, alt: name, class: 'thumb' }));
  const body = element('div', { class: 'card-body' });
  body.append(element('h3', { class: 'file' }, name));
  item.append(body);
  return { item, body };
}

/** A card with the prediction; `top` is [{label, score}], best first; `probs` every class's probability;
 * `unverified` (the reason) when the artifact runs without passing verification (?allow-unverified=1):
 * shown on the card and in its data. */
export function predictionCard(name, thumbnailUrl, top, ms, size, probs, unverified = null) {
  const { item, body } = card(name, thumbnailUrl);
  Object.assign(item.dataset, { testid: 'prediction', label: top[0].label, score: String(top[0].score), ms: String(ms),
    probs: JSON.stringify(Array.from(probs)) });
  if (unverified) {
    item.dataset.unverified = unverified;
    body.append(element('p', { class: 'error', role: 'alert' }, `unverified model: ${unverified}`));
  }
  const list = element('ol', { class: 'classes', 'aria-label': `top ${top.length} classes for ${name}` });
  for (const { label, score } of top) {
    const row = element('li', { class: 'class' });
    const bar = element('div', { class: 'bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100',
      'aria-valuenow': (score * 100).toFixed(1), 'aria-label': label });
    bar.append(element('span', { class: 'fill', style: `width: ${(score * 100).toFixed(2)}%` }));
    row.append(element('span', { class: 'label' }, label), element('span', { class: 'score' }, percent(score)), bar);
    list.append(row);
  }
  body.append(list, element('p', { class: 'meta' }, `${size.width}×${size.height} px · ${ms.toFixed(1)} ms`));
  return item;
}

/** A card saying why this file could not be classified. */
export function errorCard(name, message) {
  const { item, body } = card(name, null);
  Object.assign(item.dataset, { testid: 'error', error: message });
  item.classList.add('failed');
  body.append(element('p', { class: 'error', role: 'alert' }, message));
  return item;
}
