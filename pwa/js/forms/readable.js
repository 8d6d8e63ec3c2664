// A filled-in form as readable lines (label → answer) for the worker's screens: choice labels,
// not their codes; 是/否; a photo, a position or a signature as a word. Questions without an
// answer are left out. Used by the household's visit history (pwa/js/screens/visit-form.js).

const WORDS = {
  zh: { yes: '是', no: '否', photo: '已拍照', location: '已记录位置', signature: '已签名', sep: '、' },
  en: { yes: 'Yes', no: 'No', photo: 'Photo taken', location: 'Position recorded', signature: 'Signed', sep: ', ' },
};

/** [{ name, label, text }] for the answered questions of `definition`, in form order. */
export function readableAnswers(definition, values, locale = 'zh') {
  const words = WORDS[locale === 'en' ? 'en' : 'zh'];
  const say = (text) => (text ? (locale === 'en' && text.en ? text.en : text.zh || text.en || '') : '');
  const out = [];
  for (const q of (definition && definition.questions) || []) {
    if (!q || typeof q.name !== 'string') continue;
    const v = (values || {})[q.name];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
    out.push({ name: q.name, label: say(q.label) || q.name, text: answerText(q, v, words, say) });
  }
  return out;
}

function answerText(q, v, words, say) {
  const choice = (value) => {
    const found = (q.choices || []).find((c) => c && c.value === value);
    return found ? say(found.label) || String(value) : String(value);
  };
  switch (q.type) {
    case 'yes_no': return v === 'yes' ? words.yes : v === 'no' ? words.no : String(v);
    case 'select_one': return choice(v);
    case 'select_multiple': return (Array.isArray(v) ? v : [v]).map(choice).join(words.sep);
    case 'photo': return words.photo;
    case 'location': return words.location;
    case 'signature': return words.signature;
    default: return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}
