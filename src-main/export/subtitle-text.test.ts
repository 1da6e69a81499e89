// Sentence ends, text without spaces (Chinese, Japanese, Thai) and balanced rows in subtitle cues.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitLine } from './subtitle-split.ts';
import { joinTokens, MAX_ROW_CHARS, rowFilling, subtitleRows, tokens, type Token } from './subtitle-text.ts';
import { subtitleCues, toSrt } from './subtitles.ts';

const RATE = 8000;
const sec = (s: number): number => Math.round(s * RATE);

/** Display columns, written independently of the code under test: CJK and full-width forms take two. */
const columns = (s: string): number =>
  [...s].reduce((n, c) => n + (/\p{M}/u.test(c) ? 0 : /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\u3000-\u303f\uff01-\uff60]/u.test(c) ? 2 : 1), 0);

/** A piece's or cue's text, as its tokens join. */
const textOf = (p: { tokens: readonly Token[] }): string => joinTokens(p.tokens);
/** Rows of a text, or of one cue of it. */
const rowsOf = (text: string, prefix = ''): string[] => subtitleRows(tokens(text), prefix);

/** The pieces of a line spoken at `perSecond` characters a second. */
const pieces = (text: string, perSecond: number, prefix = '') => splitLine(text, { prefix, length: sec(text.length / perSecond), sampleRate: RATE });
const split = (text: string, perSecond: number, prefix = ''): string[] => pieces(text, perSecond, prefix).map(textOf);

describe('sentence ends', () => {
  it('are not taken at abbreviations, initials or a full stop before a lowercase word', () => {
    const lines: [string, string][] = [
      ['We packed everything for the long trip, e.g. maps and a torch and spare batteries for the old radio.', 'e.g.'],
      ['The match was Leeds vs. Arsenal at the old ground, and the whole family went along to watch it.', 'vs.'],
      ['It takes approx. ten minutes to walk there, so we should leave the house now if we want a seat.', 'approx.'],
      ['She lives at No. 5 on the hill above the harbour, in the blue house with the white door.', 'No.'],
      ['My favourite writer has always been J. R. R. Tolkien, and I have read all of his books a dozen times.', 'R.'],
      ['We bought apples, pears, plums etc. and then we carried all of them home through the rain.', 'etc.'],
      ['They moved to St. Louis last spring, and we have not heard a single word from either of them.', 'St.'],
    ];
    for (const [text, abbreviation] of lines) {
      const pieces = split(text, 14, 'Ann: ');
      expect(pieces.length, text).toBe(2);
      expect(pieces[0], text).toMatch(/,$/);
      for (const p of pieces) expect(p.endsWith(` ${abbreviation}`), `${JSON.stringify(p)} of ${text}`).toBe(false);
    }
  });

  it('are still taken before an uppercase word, a quote or a bracket, in any language', () => {
    expect(split('We waited at the station for hours and hours. "Then the train finally came," she said quietly.', 14)).toEqual([
      'We waited at the station for hours and hours.',
      '"Then the train finally came," she said quietly.',
    ]);
    expect(split('Wir haben sehr lange am Bahnhof gewartet, z.B. zwei Stunden. Dann kam endlich der Zug nach Hause.', 14)).toEqual([
      'Wir haben sehr lange am Bahnhof gewartet, z.B. zwei Stunden.',
      'Dann kam endlich der Zug nach Hause.',
    ]);
  });
});

/** About 200 characters of Chinese with an embedded Latin word. */
const CHINESE =
  '今天早上我们一起去了城东的那个大公园，天气非常好，阳光很温暖。孩子们在草地上跑来跑去，玩得特别开心。' +
  '中午的时候，我们在湖边的小餐馆吃了午饭，菜的味道很不错，价格也很便宜。下午我用iPhone拍了很多照片，' +
  '准备晚上发给家里的老人看看。回家的路上，大家都说下个周末还想再来一次。如果天气还是这么好的话，' +
  '我们就带上风筝和野餐垫，在湖边待上一整天，一直玩到太阳下山再回家。';

/** No row or cue starts with closing punctuation or ends with an opening bracket. */
const CLOSING = /^[。，、；：！？」』）”]/u;
const OPENING = /[「『（“]$/u;

describe('text without spaces', () => {
  it('splits a long Chinese line into cues of two rows of at most 21 characters, at punctuation, Latin words whole', () => {
    const cut = pieces(CHINESE, 4.5, '安: ');
    expect(cut.map(textOf).join('')).toBe(CHINESE);
    expect(cut.length).toBeGreaterThanOrEqual(7);
    for (const { tokens: own } of cut) {
      const p = joinTokens(own);
      expect(p, p).toMatch(/[。，！？]$/u);
      const rows = subtitleRows(own, '安: ');
      expect(rows.length, p).toBeLessThanOrEqual(2);
      for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
      for (const row of rows) expect(row).not.toMatch(CLOSING);
    }
    expect(cut.some((p) => textOf(p).includes('iPhone'))).toBe(true);
  });

  it('wraps Japanese rows between characters, never before closing or after opening brackets', () => {
    const text = '「今日は楽しかったね」と彼女は言った。明日もまた一緒に行きましょう。';
    const rows = rowsOf(text);
    expect(rows.join('')).toBe(text);
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
      expect(row).not.toMatch(CLOSING);
      expect(row).not.toMatch(OPENING);
    }
    expect(rows[0]).toMatch(/。$/u);
  });

  it('splits a long Thai line between words', () => {
    const text = 'วันนี้อากาศดีมากเราจึงไปเดินเล่นที่สวนสาธารณะใกล้บ้านกับครอบครัวและเพื่อนๆหลายคนแล้วก็กินข้าวกลางวันที่ร้านอาหารริมทะเลสาบด้วยกันอย่างมีความสุข';
    const pieces = split(text, 10);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(text);
    // No piece starts with a combining vowel or tone mark, which would mean a cut inside a syllable.
    for (const p of pieces) expect(p).not.toMatch(/^\p{M}/u);
  });

  it('keeps every character once, in order, at a readable rate, in cues of at most two rows', () => {
    const unit = fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('我们', '今天', '公园', '天气', '非常', '好', '孩子', '跑', '東京', 'タワー', 'ありがとう', '的') },
      { weight: 3, arbitrary: fc.constantFrom('。', '，', '、', '！', '？', '「', '」') },
      { weight: 1, arbitrary: fc.constantFrom('iPhone', 'OK', '3.5', ' ') },
    );
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 150 }), fc.double({ min: 2.5, max: 6, noNaN: true }), fc.constantFrom('', '安: '), (units, perSecond, prefix) => {
        const text = units.join('').trim();
        if (text === '') return;
        const cut = pieces(text, perSecond, prefix);
        expect(cut.map(textOf).join('').replace(/ /g, '')).toBe(text.replace(/\s+/g, ''));
        for (const p of cut) {
          const rows = subtitleRows(p.tokens, prefix);
          if ([...textOf(p).replace(/\s/g, '')].length > 2) expect(rows.length, `${JSON.stringify(textOf(p))} of ${JSON.stringify(text)}`).toBeLessThanOrEqual(2);
          for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
        }
        // Latin words come through whole.
        expect(cut.flatMap((p) => textOf(p).match(/[A-Za-z0-9.]+/g) ?? [])).toEqual(text.match(/[A-Za-z0-9.]+/g) ?? []);
      }),
      { numRuns: 100 },
    );
  });
});

describe('rows of a cue', () => {
  it('are balanced: the break that makes the longer row shortest', () => {
    expect(rowsOf('The storm came in fast over the hills tonight.', 'Ann: ')).toEqual(['Ann: The storm came in fast', 'over the hills tonight.']);
    expect(rowsOf('Hello there, <friend> & welcome to a rather long line that needs wrapping.', 'Ann: ')).toEqual([
      'Ann: Hello there, <friend> & welcome to',
      'a rather long line that needs wrapping.',
    ]);
  });

  it('break at a clause mark or sentence end when one is near the middle, and never after a title', () => {
    expect(rowsOf('We waited at the station for an hour, but the train never came at all')).toEqual(['We waited at the station for an hour,', 'but the train never came at all']);
    expect(rowsOf('It was so late at night. We barely made it back home in time')).toEqual(['It was so late at night.', 'We barely made it back home in time']);
    for (const row of rowsOf('I think that we should really go and ask Mr. Jones about the barn')) expect(row).not.toMatch(/Mr\.$/);
  });

  it('keep the row count of filling them in order, and every word once', () => {
    const word = fc.constantFrom('the', 'storm', 'came', 'over', 'hills', 'we', 'barely', 'farmhouse', 'a', 'Mr.', 'tonight.', 'well,', '(laughs)', 'x'.repeat(45));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), fc.constantFrom('', 'Ann: '), (words, prefix) => {
        const text = words.join(' ');
        const rows = rowsOf(text, prefix);
        expect(rows.join(' ')).toBe(prefix + text);
        // Filled in order: a new row when the next word would not fit.
        let greedy = 1;
        let width = prefix.length + words[0].length;
        for (const w of words.slice(1)) {
          if (width + 1 + w.length > MAX_ROW_CHARS) [greedy, width] = [greedy + 1, w.length];
          else width += 1 + w.length;
        }
        expect(rows).toHaveLength(greedy);
        if (rows.length === 2 && words.every((w) => w.length <= 30)) for (const row of rows) expect(row.length).toBeLessThanOrEqual(MAX_ROW_CHARS);
      }),
      { numRuns: 300 },
    );
  });
});

describe('row counts of a line\'s token ranges', () => {
  it('are those of wrapping the range\'s tokens into rows, with and without a label', () => {
    const word = fc.constantFrom('the', 'storm', 'came', 'over', 'farmhouse', 'a', 'Mr.', 'tonight.', '(laughs)', 'x'.repeat(45), '我们今天去公园玩，天气很好。', '「ありがとう」と言った。', '我用iPhone拍照');
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), fc.constantFrom('', 'Ann: ', '安: '), fc.nat(), fc.nat(), (words, prefix, x, y) => {
        const toks = tokens(words.join(' '));
        const [from, to] = [x % toks.length, x % toks.length + 1 + (y % (toks.length - (x % toks.length)))];
        expect(rowFilling(toks, prefix).rows(from, to)).toBe(subtitleRows(toks.slice(from, to), prefix).length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('words run together by punctuation, too wide for a row', () => {
  it('wrap at their punctuation instead of running past 42 columns', () => {
    for (const text of ['abcdefgh,'.repeat(9), 'hello，'.repeat(10), 'one.two/three:four-five'.repeat(3)]) {
      const rows = rowsOf(text, 'Ann: ');
      expect(rows.join('').replace(/^Ann: /, ''), text).toBe(text);
      for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
    }
  });

  it('never make a row wider than 42 columns, label included, among other words', () => {
    const word = fc.constantFrom('the', 'storm', 'well,', 'Mr.', '(laughs)', 'abcdefgh,'.repeat(6), 'hello，'.repeat(8), 'yes,no,maybe,'.repeat(4), 'one.two/three:four'.repeat(3));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 20 }), fc.constantFrom('', 'Ann: '), (words, prefix) => {
        const text = words.join(' ');
        const rows = rowsOf(text, prefix);
        expect(rows.join('').replace(/ /g, '')).toBe((prefix + text).replace(/ /g, ''));
        for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
      }),
      { numRuns: 200 },
    );
  });

  it('make cues of rows within 42 columns, also where a cue starts inside a word written without spaces', () => {
    const text = `我们${'abcdefgh,'.repeat(17)}`;
    const cut = pieces(text, 12);
    expect(cut.map(textOf).join('')).toBe(text);
    for (const p of cut) {
      const rows = subtitleRows(p.tokens);
      expect(rows.length, textOf(p)).toBeLessThanOrEqual(2);
      for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
    }
  });
});

describe('a capital letter with a full stop', () => {
  it('may end a sentence where it is not part of a name ("Agent K.", "plan B."): rows still break there', () => {
    expect(rowsOf('That was the day I met Agent K. He showed me the whole operation.')).toEqual([
      'That was the day I met Agent K.',
      'He showed me the whole operation.',
    ]);
    expect(rowsOf('We went with plan B. Then it all fell apart.')).toEqual(['We went with plan B.', 'Then it all fell apart.']);
  });

  it('stays with the name while initials run on or follow a title ("J. R. R. Tolkien", "Dr. J. Smith")', () => {
    // Without the rule, the balanced break would fall after an initial in each of these.
    for (const text of [
      'I have read everything that J. R. R. Tolkien wrote about the elves',
      'I have been reading all about J. R. R. Tolkien and his friends',
      'You will have to ask Dr. J. Watson about all of that',
    ]) {
      const rows = rowsOf(text);
      expect(rows, text).toHaveLength(2);
      expect(rows[0], text).not.toMatch(/\b[A-Z]\.$/);
    }
  });
});

describe('a non-verbal tag in text without spaces', () => {
  it('stays with the word before it, in ASCII or full-width brackets', () => {
    for (const tag of ['(笑)', '（笑）', '（大笑い）']) {
      const text = `そんなこと本当にあるのかな本当？${tag}でもそれはちょっと信じられないよね`;
      const rows = rowsOf(text);
      expect(rows.join(''), text).toBe(text);
      expect(rows[0], text).toMatch(/[)）]$/u);
    }
  });
});

describe('a row or cue of Japanese', () => {
  /** Characters a Japanese line may not start with: small kana, the prolonged sound mark, iteration marks. */
  const NO_START = /^[ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶー々ゝゞヽヾ]/u;

  it('never starts with a small kana or a prolonged sound mark', () => {
    for (const [text, prefix] of [
      ['私たちは誰もその話を信じなかったので困ってしまったと彼は言った', 'Bob: '],
      ['ちょっと待ってーラーメンを食べに行きたいんだけど、みんなはどうするのかなあ', ''],
    ]) {
      const rows = rowsOf(text, prefix);
      expect(rows.join('').replace(prefix, ''), text).toBe(text);
      for (const row of rows) expect(row, text).not.toMatch(NO_START);
    }
    const text = '私たちは誰もその話を信じなかったので困ってしまったと彼は言った。'.repeat(3);
    for (const piece of split(text, 5, 'Bob: ')) expect(piece, text).not.toMatch(NO_START);
  });
});

describe('a capital letter with a full stop after a lowercase word', () => {
  it('ends a sentence ("neither did I. Then"), as before initials were kept with their names', () => {
    const text = 'I told him I would never do that again, and neither did I. Then we drove home through the rain without saying a single word.';
    const pieces = splitLine(text, { prefix: 'Ann: ', length: sec(8), sampleRate: RATE }).map(textOf);
    expect(pieces[0]).toMatch(/did I\.$/);
    expect(rowsOf('And in the end neither did I. Then we drove home in silence')).toEqual(['And in the end neither did I.', 'Then we drove home in silence']);
  });

  it('is an initial after any other lowercase word ("a letter to J. Smith"): no cue ends on it', () => {
    const text = 'I had a long talk this morning about the budget and then wrote a letter to J. Smith about the new office plan for next year.';
    const cut = splitLine(text, { prefix: '', length: sec(8), sampleRate: RATE }).map(textOf);
    expect(cut.length).toBeGreaterThan(1);
    for (const p of cut) expect(p, JSON.stringify(cut)).not.toMatch(/\bJ\.$/);
  });

  it('is still an initial after a sentence end ("them. J. Smith")', () => {
    expect(rowsOf('We sat and waited for them. J. Smith came in last of all that night')).toEqual([
      'We sat and waited for them.',
      'J. Smith came in last of all that night',
    ]);
  });
});

describe('Japanese words and particles', () => {
  it('stay whole in a row: no break inside a verb ending or before a particle', () => {
    expect(rowsOf('彼は最後まで私の話を信じなかったので、とても悲しかった。')).toEqual(['彼は最後まで私の話を信じなかったので、', 'とても悲しかった。']);
    expect(rowsOf('母は駅の前で長い間ずっと待っていたけど、誰も来なかった。')).toEqual(['母は駅の前で長い間ずっと', '待っていたけど、誰も来なかった。']);
  });

  it('keep their order where a bracket opens on a small kana or prolonged sound mark (「ーー」)', () => {
    for (const text of ['彼は「ーー」と言った。', '彼女は「っ」とだけ言った。']) expect(joinTokens(tokens(text))).toBe(text);
  });

  it('a long run of hiragana still wraps within a row', () => {
    const text = 'そんなことはないよとおもうけれどもほんとうはどうなのかなあとずっとかんがえていたんだよね';
    const rows = rowsOf(text);
    expect(rows.join('')).toBe(text);
    for (const row of rows) expect(columns(row), row).toBeLessThanOrEqual(MAX_ROW_CHARS);
  });

  it('a closing quote with a particle after it ends no sentence (「…？」と)', () => {
    const text = '「本当にそれでいいの？」と彼女は何度も聞いたけれど、彼は黙ったまま窓の外をずっと見つめていた。';
    const pieces = splitLine(text, { prefix: '', length: sec(7), sampleRate: RATE }).map(textOf);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) expect(p, JSON.stringify(pieces)).not.toMatch(/^と/u);
  });
});

describe('ASCII quotes in text without spaces', () => {
  it('go with the word after them where they open, with the one before where they close', () => {
    const text = '他对我说："我们明天一起去北京看看那些老朋友吧"然后他就走了，我一个人站在那里。';
    const rows = rowsOf(text);
    expect(rows.join('')).toBe(text);
    for (const row of rows) expect(row).not.toMatch(/"$/u);
    expect(tokens('他说："好，"她说，"走吧。"').map((t) => t.text)).toEqual(['他', '说：', '"好，"', '她', '说，', '"走', '吧。"']);
  });

  it('count a quote inside brackets, so the next quote still opens (【"注意"】…。"我们…")', () => {
    const text = '【"注意"】他今天早上在车站等了很久很久。"我们明天再见吧，路上小心。"';
    expect(tokens(text).map((t) => t.text)).toContain('"我们');
    const cue = { index: 0, lineId: 'a', speakerId: 'S1', speakerName: 'Ann', text, start: 0, end: sec(6), sampleRate: RATE };
    for (const speakerLabels of [false, true]) {
      const rows = toSrt(subtitleCues([cue], { speakerLabels })).trimEnd().split('\n').slice(2);
      expect(rows).toHaveLength(2);
      expect(rows[0], rows.join('|')).not.toMatch(/"$/u);
    }
  });
});
