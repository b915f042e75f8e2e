// Builds clinical records with injected PHI from templates (a seeded generator, not a copy of
// any dataset): the text, the PHI values injected (with categories) and medical terms the
// record certainly holds.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴'];
const GIVEN = ['建国', '秀英', '志强', '丽华', '海涛', '玉兰', '文斌', '桂芳', '国栋', '淑珍'];
const STREETS = ['北京市朝阳区建国路88号', '上海市徐汇区漕溪北路120号', '广东省广州市天河区体育西路33号', '四川省成都市武侯区人民南路四段12号'];
const HOSPITALS = ['北京协和医院', '复旦大学附属中山医院', '四川大学华西医院', '中山大学附属第一医院'];
const CLINICAL = [
  '因反复胸闷、气短3年，加重伴咳嗽1周入院。',
  '既往有高血压病史10年，口服硝苯地平控释片，血压控制可。',
  '查体：双肺呼吸音粗，可闻及湿性啰音，心率96次/分，律齐。',
  '胸部CT示右肺下叶炎症，血常规示白细胞计数升高。',
  '诊断：慢性阻塞性肺疾病急性加重，高血压病3级。',
  '予抗感染、平喘、化痰治疗后症状好转。',
  '患者自诉头痛、头晕，无恶心、呕吐。',
  '行腹部B超检查，未见明显异常。',
  '予阿司匹林肠溶片口服，监测血糖。',
  '双下肢无水肿，神经系统查体未见异常。',
];
// Terms the tests expect the ccks2017-lite model to highlight, with their types.
export const EXPECTED_ENTITIES = [['胸闷', '症状和体征'], ['高血压', '疾病和诊断'], ['胸部CT', '检查和检验']];

function idNumber(r) {
  const body = '110105' + String(1950 + Math.floor(r() * 50)) + String(1 + Math.floor(r() * 12)).padStart(2, '0') + String(1 + Math.floor(r() * 28)).padStart(2, '0') + String(Math.floor(r() * 1000)).padStart(3, '0');
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return body + '10X98765432'[sum % 11];
}

export function record(seed = 1, { sentences = 6 } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const name = pick(SURNAMES) + pick(GIVEN);
  const doctor = pick(SURNAMES) + pick(GIVEN.filter((g) => !name.endsWith(g)));
  const age = `${30 + Math.floor(r() * 50)}岁`;
  const phone = '139' + String(Math.floor(r() * 1e8)).padStart(8, '0');
  const id = idNumber(r);
  const mrn = 'ZY' + String(Math.floor(r() * 1e8)).padStart(8, '0');
  const date = `2023年${1 + Math.floor(r() * 9)}月${10 + Math.floor(r() * 18)}日`;
  const address = pick(STREETS);
  const hospital = pick(HOSPITALS);
  const body = [CLINICAL[0], CLINICAL[1], CLINICAL[3]];
  while (body.length < sentences) body.push(pick(CLINICAL.slice(4)));
  const text = `患者${name}，男，${age}，住院号${mrn}，身份证号${id}，联系电话${phone}。\n` +
    `于${date}入住${hospital}。` + body.join('') + `\n住址：${address}。主治医师：${doctor}。`;
  const phi = [
    { text: name, category: 'NAME' }, { text: doctor, category: 'NAME' }, { text: age, category: 'AGE' },
    { text: mrn, category: 'MRN' }, { text: id, category: 'ID' }, { text: phone, category: 'PHONE' },
    { text: date, category: 'DATE' }, { text: address, category: 'ADDRESS' }, { text: hospital, category: 'HOSPITAL' },
  ];
  return { text, phi };
}
