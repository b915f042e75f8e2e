// Package deid finds protected health information (PHI) in Chinese clinical text and masks
// it. Detect returns spans on the caller's original text (rune offsets, end exclusive); Mask
// rewrites the text from spans. Detection runs on a width-folded, punctuation-unified copy
// (core/text; one rune per rune), so "２０１９－０３－０５" and "电话：" match like ASCII.
// Invalid UTF-8 is an error wrapping ErrInvalidUTF8; nothing here panics on any input.
//
// # Categories, rules and tags
//
//	category  rule(s)                 what matches                                   tag
//	NAME      name-label              surname + 1–2 given runes after 姓名/医师/主治医师/
//	                                  护士/家属/联系人/签名/记录人/其母 … (":" optional)  [姓名]
//	                                  (dropped when a given rune is in givenRare)
//	          name-context            the same after 患者/病人/患儿 …, only when the name
//	                                  ends at a boundary (non-Han, end, or a stop rune)
//	                                  and the name model scores it ≥ nameContextMin
//	          name-field              the whole value of any colon field (核准：X。, 校对 ：X),
//	                                  ending at a non-Han rune other than ':' or the end,
//	                                  label not ending in 示/为/见/报 …, name model ≥
//	                                  nameFieldMin
//	          name-repeat             every other occurrence of a name found by a rule
//	          name-title              surname (+ given runes) before 主任医师/医生/主任/
//	                                  教授/先生/女士 … (not after 值班/主管/上级 …)
//	AGE       age age-label age-han   45岁, 3岁2月, 8月龄, 年龄：45, 六十五岁             [年龄]
//	DATE      date-ymd-cn date-md-cn  2019年3月5日, 2019年3月, 2019年, 3月5日               [日期]
//	          date-numeric date-mdy   2019-03-05, 2019/3/5, 2019.03.05, 2019-03, 3/5/2019
//	          date-han date-han-md    二〇一九年三月五日, 三月五日
//	          time time-cn            19:30, 下午3时, 晚上8点半, 10时30分
//	PHONE     mobile                  1[3-9]xxxxxxxxx (also 138-1234-5678, +86 prefix)    [电话]
//	          landline                010-62345678, (0571)87654321
//	          phone-label             digits after 电话/手机/联系方式/Tel
//	ID        id-checksum             18-digit resident ID with a valid birth date and   [身份证号]
//	                                  MOD 11-2 check character; 15-digit legacy ID with a
//	                                  valid birth date
//	          id-label                15–18 digits/X after 身份证(号)/证件号, any checksum
//	MRN       mrn-label               alnum after 住院号/病案号/病历号/门诊号/医保号/床号/  [病案号]
//	                                  登记号/ID号 …
//	          bed-number              12床
//	ADDRESS   address-label           after 住址/地址/家住/现住/籍贯/户籍/来自 …: a chain of [地址]
//	                                  components (below)
//	          address-place           a built-in province/city/district name followed by
//	                                  a suffix (北京市, 双滦区) or by more components
//	HOSPITAL  hospital                the Han run (≤14) before 医院/卫生院/诊所/卫生服务中心/ [医院]
//	                                  保健院/疗养院 …, cut at 于/在/转/至/我 …, leading
//	                                  当地/上级/某 removed; dropped when only generic words
//	                                  remain (县人民医院, 社区卫生服务中心, 肿瘤医院)
//	          hospital+department     the same followed by a department (…科/病区/门诊)
//	EMAIL     email                   local@domain.tld                                    [邮箱]
//	URL       url                     http(s)://, ftp://, www. …                          [网址]
//	IP        ipv4                    four octets ≤ 255                                   [IP地址]
//
// Numbers must not touch further digits (an 18-digit ID inside 20 digits is not an ID); dates
// need years 1900–2099, months 1–12, days 1–31; times need hours ≤ 24 and minutes ≤ 59.
// Address components: a built-in place name (+ suffix), or up to 7 Han runes ending in
// 省/市/自治区/区/县/旗/镇/乡/街道/村/社区/小区/路/街/大道/巷/弄/胡同/组/苑/园/庄 …, or a
// number with 号/栋/幢/单元/楼/层/室/组, or 3-2-301. Given names never contain the stop runes
// of nameStop (function words such as 因/于/在 and medical-word runes such as 炎/痛/血/压),
// so 高血压, 王不留行 and 患者于3天前 are not names; nameBlock lists a few more words.
//
// The name model (namemodel.go) scores a candidate: its surname by frequency rank, each
// given rune +1 when it is a frequent given-name character (givenCommon), −3 when it is a
// character of clinical or everyday words rare in names (givenRare: 我, 疸, 肤, 蛋 …), −0.5
// otherwise. So 核准：龚强雨 is a name whatever the given runes, while 患者于我院, 患者皮肤,
// 肝功：白蛋白 and 心电图：房扑 are not.
//
// The built-in data: about 390 single-character and 30 compound surnames (data.go) and the
// province-level units with their prefecture-level cities and some districts (places.txt).
//
// # Overlaps
//
// Candidates of all rules are resolved longest first; on equal length the category earlier
// in Categories wins (EMAIL URL IP ID PHONE MRN DATE AGE HOSPITAL ADDRESS NAME), then the
// earlier start. A candidate overlapping one already taken is dropped. So a URL holding an
// IP is a URL, and 北京市朝阳区XX医院 is one HOSPITAL rather than an ADDRESS and a HOSPITAL.
//
// # Protected medical entities
//
// Options.Protected holds spans of medical entities (a disease is not a name). A NAME that
// overlaps any protected span is dropped. An ADDRESS or HOSPITAL is dropped when a protected
// span crosses its boundary; one lying wholly inside (肿瘤 in 省肿瘤医院) is part of the name.
// Structured categories (AGE DATE PHONE ID MRN EMAIL URL IP) are never dropped: their
// patterns are specific enough, and an identifier must be masked even where a tagger erred.
//
// # Masking
//
// ModeTag replaces each span by its category tag (table above). ModeMask replaces each rune
// by '＊' (runes from U+2E80 on: CJK and fullwidth) or '*' (others), keeping the length.
// ModeSurrogate replaces each span by a fake value of the same shape, drawn from a PCG
// generator seeded by the seed argument, and consistent within one call (one document): the
// same category and text always get the same surrogate. Names: a common surname and given
// runes, same length. Dates: every year/month/day is shifted by one offset per document
// (±30–365 days), written in the original form (Arabic or Chinese numerals, zero padding,
// separators), so intervals between dates are kept; times of day and dates without a
// readable year, month or day are left as they are. Phones: same separators and length, the
// +86 prefix, an area code's leading 0 and a mobile's leading 1 kept, second mobile digit in
// 3–9, others random. IDs: a real region code, the birth date shifted by the document offset
// and a valid check character (18 digits) or a valid date (15 digits). MRNs: each digit and
// letter random (same kind and case). Addresses: province + city + district + road + number.
// Hospitals: city + 第N人民医院. E-mail: xxxxxx@example.com; URL: https://example.org/xxxxxx;
// IP: 10.x.x.x. Ages up to 89 are kept and older ages become 90 (the HIPAA Safe Harbor rule).
//
// Package synth builds the benchmark that measures all this on real clinical text.
package deid
