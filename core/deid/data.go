package deid

import (
	_ "embed"
	"strings"
	"unicode/utf8"
)

// surnameList holds common Chinese single-character surnames (roughly the 300 most frequent)
// followed by compound surnames.
const surnameList = `王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬扈晁芮普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利呼居揭尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭`

var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "澹台", "轩辕", "端木", "南宫", "西门", "独孤", "呼延", "万俟", "闻人", "申屠", "太史", "钟离", "宗政", "濮阳", "公冶", "赫连"}

//go:embed places.txt
var placesText string

var (
	surnames  = map[rune]bool{}
	provinces []string                // province-level names, no suffix
	places    []string                // every province, city and district name, no suffix, longest first
	cities    = map[string][]string{} // province → its cities and districts
	placesBy  = map[rune][]string{}   // places by first rune, longest first
)

func init() {
	for _, r := range surnameList {
		surnames[r] = true
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(placesText, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		provinces = append(provinces, f[0])
		cities[f[0]] = f[1:]
		for _, p := range f {
			if !seen[p] {
				seen[p] = true
				places = append(places, p)
			}
		}
	}
	sortByLenDesc(places)
	for _, p := range places {
		r, _ := utf8.DecodeRuneInString(p)
		placesBy[r] = append(placesBy[r], p)
	}
}

// sortByLenDesc orders names longest first (by runes), so matching prefers the longest name.
func sortByLenDesc(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && len([]rune(a[j])) > len([]rune(a[j-1])); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Surnames returns the built-in single-character surnames followed by the compound ones.
func Surnames() []string {
	out := make([]string, 0, len(surnames)+len(compoundSurnames))
	for _, r := range surnameList {
		out = append(out, string(r))
	}
	return append(out, compoundSurnames...)
}

// Places returns the province-level names and all built-in place names (no suffixes).
func Places() (provinceNames, all []string) {
	return append([]string(nil), provinces...), append([]string(nil), places...)
}
