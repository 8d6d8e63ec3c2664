// The message catalogue: Simplified Chinese by default, English on request. Plain objects so
// a test can check both languages have the same keys (tests/pwa/test_catalogue.py).
export const MESSAGES = {
  zh: {
    'app.name': '网格', 'loading': '正在打开…', 'skip': '跳到正文', 'saved': '已保存到手机,有信号时自动上传',
    'tab.home': '位置', 'tab.visits': '走访', 'tab.report': '上报', 'tab.cases': '案件', 'tab.sync': '同步', 'tab.settings': '设置',
    'login.title': '网格员登录', 'login.hint': '首次登录需要联网;之后无信号也能使用。', 'login.again_hint': '请重新输入密码。手机上的记录都还在,登录后会继续上传。', 'login.username': '用户名', 'login.password': '密码',
    'login.submit': '登录', 'login.offline': '没有网络。首次登录需要联网,请到有信号的地方再试。', 'login.bad': '用户名或密码不对。',
    'login.failed': '服务器暂时无法登录,请稍后再试。', 'login.throttled': '尝试次数过多,请稍后再试。',
    'login.other_user': '这部手机上还有另一位网格员未同步的记录,请先由其本人登录同步。',
    'home.title': '我在哪个网格', 'home.denied': '未获定位权限', 'home.unavailable': '暂时无法定位', 'home.waiting': '正在定位…',
    'home.outside': '不在您负责的网格内', 'home.no_cells': '尚未同步网格,请联网同步一次',
    'home.fix': '纬度 {lat},经度 {lon},精度约 {acc} 米', 'home.save_anyway': '没有定位也可以照常保存走访和上报。',
    'home.map_label': '您负责的 {n} 个网格及当前位置', 'home.due': '待走访 {n} 户', 'home.report': '拍照上报',
    'home.cells': '负责网格 {n} 个,住户 {h} 户',
    'home.syncing': '正在同步网格…', 'home.outside_named': '不在您负责的网格内:{cell}', 'home.their_worker': '网格员:{names}',
    'home.no_worker': '该网格暂无网格员', 'home.unknown_place': '不在本街道的网格内',
    'home.campaigns': '专项行动 {n} 项,待完成 {todo} 个', 'back.campaigns': '返回专项行动', 'back.targets': '返回对象列表',
    'campaign.title': '专项行动', 'campaign.none': '目前没有分派给您的专项行动。', 'campaign.untitled': '未命名的专项行动',
    'campaign.progress': '已完成 {x} / {n}', 'campaign.until': '截止 {d}', 'campaign.all_done': '全部完成',
    'campaign.done': '已完成', 'campaign.not_done': '未完成', 'campaign.no_label': '未注明地址', 'campaign.no_targets': '您的网格里没有这项行动的对象。',
    'campaign.gone': '这项专项行动已结束或不在您的网格内。', 'campaign.target_gone': '这个对象已不在您的任务中。',
    'campaign.no_form': '手机上还没有这项行动的表单,请联网同步一次。', 'campaign.answered_before': '这个对象已经填过;再次保存会另外记录一份。',
    'campaign.save': '保存', 'campaign.fix': '请先改正标出的内容,再保存。', 'campaign.saved': '已保存到手机,有信号时自动上传',
    'summary.answer': '{title}:{where}',
    'back.cases': '返回案件列表', 'back.visits': '返回走访列表', 'back.sync': '返回同步',
    'limit.counter': '{n}/{max} 字', 'limit.too_long': '“{field}”最多 {max} 字,现在 {n} 字。', 'limit.required': '请填写“{field}”。',
    'limit.fixed': '请先改正标出的内容,再保存。',
    'fix.edit': '修改后重新提交', 'fix.discard': '放弃这条记录', 'fix.discard_confirm': '放弃后这条记录不会再上传,手机上也不再保留。确定放弃?',
    'fix.resend': '重新提交', 'fix.cancel': '取消', 'fix.resent': '已改正,等待上传', 'fix.discarded': '已放弃',
    'fix.seen_again': '请重新勾选见到的居民', 'fix.field': '出错的内容:{field}',
    'fix.no_form': '手机上已没有这份表单,无法修改;可以放弃这条记录。',
    'state.resent': '已改正重发', 'state.discarded': '已放弃',
    'sync.last_rejected': '上次同步:{at},但有 {n} 条记录被服务器拒绝,请在下方处理。', 'sync.rejected_list': '被拒绝,需要处理',
    'banner.dismiss': '关闭提示', 'date.today': '今天 {time}',
    'map.building': '这栋楼', 'map.residents': '登记居民 {n} 人', 'map.no_households': '这栋楼没有您负责的住户',
    'map.close': '关闭', 'map.zoom_in': '放大', 'map.zoom_out': '缩小', 'map.locate': '回到我的位置', 'map.fit': '显示全部网格',
    'map.no_layers': '还没有街道和楼栋底图,联网同步一次后离线也能显示。',
    'visits.title': '走访', 'visits.search': '按楼号、室号查找', 'visits.search_ph': '如 12 302', 'visits.bldg': '号', 'visits.room': '室',
    'visits.due': '应走访', 'visits.last': '{d} 天前走访', 'visits.never': '未走访过', 'visits.none_match': '没有找到相符的住户',
    'visits.empty': '还没有住户数据,请联网同步一次', 'visits.more': '还有 {n} 户,请输入楼号缩小范围', 'visits.count': '应走访 {due} 户 / 共 {n} 户',
    'visit.unknown': '找不到这户', 'visit.seen': '见到了谁', 'visit.no_residents': '没有登记居民', 'visit.outcome': '走访结果',
    'visit.outcome.met': '见到本人', 'visit.outcome.not_home': '不在家', 'visit.outcome.refused': '拒绝',
    'visit.situation': '情况', 'visit.needs': '需求', 'visit.follow_up': '后续跟进', 'visit.to_case': '发现问题,转为案件',
    'visit.form_untitled': '走访表', 'visit.form_for': '{name} · {tags}', 'visit.resident_unnamed': '未登记姓名的居民',
    'visit.form_missing': '“{tags}”需要填写走访表,但手机上还没有这张表。请联网同步一次;这次可先只记文字。',
    'visit.forms_not_met': '未见到居民,这次不填写走访表。', 'visit.forms_tick_seen': '在上面「见到了谁」中勾选居民后,填写其走访表;没见到的居民不填。', 'visit.forms_fix': '走访表还有未完成的地方(已标出),请补全后再保存。',
    'visit.history': '本户走访记录', 'visit.history_none': '手机上还没有这户的走访记录。', 'visit.history_undated': '日期不详',
    'visit.form_answered': '已填写走访表', 'visit.form_version_missing': '这张表的内容还没有下载到手机,联网同步后可查看。', 'visit.pending': '待上传',
    'summary.visit_answer': '{title}:{where}',
    'visit.save': '保存走访', 'visit.saved': '走访已保存', 'visit.case_title': '走访发现:{where}', 'visit.case_default': '走访 {where} 时发现的问题',
    'report.title': '拍照上报', 'report.catalogue': '事项类别', 'report.catalogue_ph': '搜索,如 垃圾 或 ljdf', 'report.description': '问题描述',
    'report.address': '地点说明(可选)', 'report.urgent': '紧急', 'report.save': '保存上报', 'report.saved': '上报已保存',
    'report.default_title': '巡查发现问题', 'report.need_something': '请拍一张照片或写几句描述。',
    'photo.camera': '拍照', 'photo.album': '从相册选', 'photo.failed': '这张照片无法读取', 'photo.alt': '照片({kb} KB)',
    'cases.title': '我的案件', 'cases.empty': '暂无案件', 'cases.mine': '我承办', 'cases.unsynced': '未同步',
    'case.untitled': '(无标题)', 'case.gone': '案件不在您的范围内', 'case.gone_hint': '可能已结案或已改派他人。',
    'case.after_close': '结案后补充', 'case.rejected': '服务器未接受:{what}', 'case.conflict': '“{field}”与他人修改冲突,由中心裁定',
    'case.conflict_values': '先到:{a};后到:{b}', 'case.note': '补充说明', 'case.add_note': '添加说明', 'case.photos': '照片',
    'case.timeline': '处理记录', 'case.edit': '修改案件信息', 'case.save_fields': '保存修改', 'case.number_pending': '编号待同步后生成',
    'field.title': '标题', 'field.description': '描述', 'field.address': '地点', 'field.priority': '紧急程度', 'field.text': '说明', 'field.situation': '情况', 'field.needs': '需求', 'field.follow_up': '后续跟进', 'field.note': '说明', 'field.catalogue_code': '事项类别', 'field.residents_seen': '见到的居民', 'field.visited_at': '走访时间(手机时钟)', 'field.captured_at_device': '拍摄时间(手机时钟)', 'field.lon': '位置', 'field.lat': '位置', 'field.accuracy_m': '定位精度', 'field.photos': '照片', 'field.outcome': '走访结果',
    'status.reported': '已上报', 'status.cancelled': '已注销', 'status.opened': '已立案', 'status.dispatched': '已派遣',
    'status.handling': '处理中', 'status.handled': '已处理待核查', 'status.closed': '已结案', 'status.evaluated': '已评价',
    'action.handling': '开始处理', 'action.handled': '处理完毕', 'action.closed': '核查通过,结案',
    'event.reported': '上报', 'event.note': '说明', 'event.photo': '照片', 'event.status': '状态变更', 'event.fields': '修改信息',
    'event.dispatched': '派遣', 'event.opened': '立案', 'event.closed': '结案', 'event.assigned': '指派',
    'mutation.visit.create': '走访记录', 'mutation.form.answer': '表单', 'mutation.case.report': '上报', 'mutation.case.note': '说明', 'mutation.photo.attach': '照片',
    'mutation.case.set_fields': '修改案件', 'mutation.case.transition': '状态变更',
    'summary.visit': '走访 {where}', 'summary.case': '走访发现问题 {where}', 'summary.report': '上报:{title}({n} 张照片)',
    'summary.note': '案件 {n} 的说明', 'summary.photo': '案件 {n} 的照片', 'summary.status': '案件 {n} → {to}', 'summary.edit': '修改案件 {n}',
    'state.waiting': '等待上传', 'state.synced': '已同步', 'state.rejected': '被拒绝', 'state.uploading': '照片上传中 {pct}%',
    'state.photo_waiting': '照片等待上传', 'state.photo_sent': '照片已上传', 'state.photo_failed': '照片上传失败:{code}',
    'reason.STATUS_CONFLICT': '案件状态已被中心更改(例如已结案),此操作未生效;其他内容已保留。',
    'reason.CASE_CLOSED': '案件已结案,不能再修改。', 'reason.NOT_IN_SCOPE': '不在您负责的范围内。',
    'reason.RESIDENT_NOT_IN_HOUSEHOLD': '勾选的居民不在这户的登记中(可能已迁出),请核对后重新记录这次走访。', 'reason.UNKNOWN_CASE': '服务器上没有这个案件。',
    'reason.UNKNOWN_HOUSEHOLD': '服务器上没有这户。', 'reason.UNKNOWN_VISIT': '服务器上没有这次走访。', 'reason.ID_TAKEN': '记录编号冲突。',
    'reason.BAD_CORRECTION': '更正的走访不属于这户。', 'reason.BASE_VERSION_REQUIRED': '修改缺少版本信息。',
    'reason.TRANSITION_NOT_ALLOWED': '这个状态变更须由中心办理。', 'reason.NOT_PERMITTED': '您无权进行这个状态变更。',
    'reason.INVALID_ARGS': '数据格式不对。', 'reason.sha256_mismatch': '照片传输损坏,将重新上传', 'reason.not_an_image': '不是照片文件',
    'reason.image_unreadable': '照片已损坏', 'reason.too_many_pixels': '照片像素过多', 'reason.upload_too_large': '照片太大',
    'reason.device_required': '请重新登录',
    'reason.UNKNOWN_MUTATION': '服务器不认识这种操作,请更新应用。', 'reason.OP_ID_REUSED': '这条操作的编号已用过,未重复执行。',
    'reason.UNKNOWN_FORM_VERSION': '服务器上没有这个已发布的表单版本,请同步后重填。',
    'reason.UNKNOWN_TARGET': '服务器上没有这个专项任务对象。',
    'reason.CAMPAIGN_NOT_PUBLISHED': '这个专项行动尚未发布。',
    'reason.WRONG_FORM': '这份表单不是该专项行动的表单。',
    'reason.CAMPAIGN_CLOSED': '专项行动已结束,结束后填写的表单不再接收。',
    'reason.ANSWERS_INVALID': '表单答案与表单不符(可能是旧版应用),请核对后重填。',
    'reason.INTEGRITY': '数据与服务器上的记录冲突。', 'reason.INTERNAL_ERROR': '服务器处理这条记录时出错,记录未生效;错误已记入服务器日志,请告知中心。',
    'sync.title': '同步', 'sync.now': '立即同步', 'sync.now_pending': '立即同步,待上传 {n} 条', 'sync.running': '正在同步…',
    'sync.pending': '待上传 {n} 条', 'sync.last': '上次成功同步:{at}', 'sync.never': '从未', 'sync.nothing': '没有记录',
    'sync.waiting_list': '待上传', 'sync.done_list': '最近已处理',
    'sync.error.offline': '没有网络,记录已保存在手机上,有信号时自动上传。', 'sync.error.signed_out': '登录已过期,请重新登录后同步。',
    'sync.error.upgrade_required': '请更新应用后再同步。', 'sync.error.server_busy': '服务器繁忙,稍后自动重试。', 'sync.error.error': '同步出错,稍后自动重试。',
    'banner.update': '有新版本,点击刷新', 'banner.update_button': '刷新', 'banner.update_dirty': '请先保存正在填写的内容,再刷新。',
    'banner.update_busy': '正在同步,请稍候再刷新。', 'banner.expired': '登录已过期:记录仍保存在手机上,重新登录后继续同步。', 'banner.sign_in_again': '重新登录',
    'banner.ios': 'iPhone 上的 Safari 会在 7 天不用后清除离线记录。请点「分享」→「添加到主屏幕」,以后从主屏幕图标打开。',
    'banner.ios_stale': '有 {n} 条记录超过一天没有上传!Safari 会在 7 天不用后清除它们。请立即连网点「立即同步」,并把本应用添加到主屏幕。',
    'banner.persist_refused': '浏览器没有同意保护数据:空间不足时仍可能清除离线记录,请经常同步。',
    'banner.in_app': '正在{app}里使用:记录可能丢失。请尽快同步,并改用手机浏览器打开。',
    'settings.persist_unsupported': '这个浏览器不能设置数据保护,请经常同步。',
    'browser.title': '请用手机浏览器打开', 'browser.blocked_title': '这里不能保存记录',
    'browser.in_app': '您正在{app}里打开网格员应用。', 'browser.no_storage': '这个浏览器不能在手机上保存数据。',
    'browser.no_offline': '这个浏览器不支持没有网络时打开本应用。',
    'browser.risk': '应用内置的浏览器可能随时清除手机上保存的记录,没有网络时也可能打不开本应用:未上传的走访和上报可能丢失。',
    'browser.blocked_risk': '在这里填写的走访和上报可能丢失,所以不能在这里使用网格员应用。请按下面的步骤换一个浏览器。',
    'browser.how': '怎样用手机浏览器打开', 'browser.step_menu': '点右上角的「···」。', 'browser.step_open': '选「在浏览器打开」。',
    'browser.step_open_ios': '选「在Safari中打开」。',
    'browser.step_or_copy': '菜单里没有这一项时,点下面的「复制链接」,再粘贴到手机浏览器的地址栏。',
    'browser.step_copy': '点下面的「复制链接」,打开手机自带的浏览器(或 Chrome、Safari),粘贴到地址栏。',
    'browser.step_other_browser': '如果开着无痕(隐私)模式,请关闭;或者换用手机自带的浏览器、Chrome、Safari。',
    'browser.link': '本应用的链接', 'browser.copy': '复制链接', 'browser.copied': '链接已复制,请粘贴到浏览器的地址栏。',
    'browser.copy_failed': '无法自动复制:请长按上面的链接,全选后复制。', 'browser.continue': '仍在这里使用(记录可能丢失)',
    'browser.app.wechat': '微信', 'browser.app.qq': 'QQ', 'browser.app.alipay': '支付宝', 'browser.app.dingtalk': '钉钉',
    'browser.app.weibo': '微博', 'browser.app.douyin': '抖音', 'browser.app.webview': '应用内置浏览器',
    'banner.persist': '空间不足时浏览器可能清除离线记录', 'banner.persist_button': '保护数据',
    'settings.title': '设置', 'settings.signed_in': '已登录:{name}', 'settings.language': '语言', 'settings.storage': '手机存储',
    'settings.usage': '已用 {used},可用约 {free}', 'settings.usage_unknown': '浏览器未提供存储用量', 'settings.persisted': '数据已受保护,不会被浏览器自动清除。',
    'settings.not_persisted': '数据未受保护:空间不足时浏览器可能清除。', 'settings.account': '账号', 'settings.device': '设备编号',
    'settings.about': '关于', 'settings.license': '本程序是自由软件,按 GNU AGPL-3.0 许可发布。', 'settings.source': '下载源代码',
    'settings.logout': '退出登录', 'settings.logout_confirm': '退出后将清除手机上的居民和案件数据。确定退出?',
    'settings.logout_unsynced': '还有 {n} 条记录没有上传,退出将永久丢失这些记录!确定退出?', 'settings.logged_out': '已退出,手机上的数据已清除',
  },
  en: {
    'app.name': 'Wangge', 'loading': 'Opening…', 'skip': 'Skip to content', 'saved': 'Saved on the phone; it uploads when there is signal',
    'tab.home': 'Where', 'tab.visits': 'Visits', 'tab.report': 'Report', 'tab.cases': 'Cases', 'tab.sync': 'Sync', 'tab.settings': 'Settings',
    'login.title': 'Grid worker sign-in', 'login.hint': 'The first sign-in needs a connection; after that the app works without signal.', 'login.again_hint': 'Enter your password again. The records on this phone are kept and upload after you sign in.',
    'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Sign in',
    'login.offline': 'No connection. The first sign-in needs signal; try again where there is some.', 'login.bad': 'Wrong username or password.',
    'login.failed': 'The server cannot sign you in right now; try again later.', 'login.throttled': 'Too many attempts; try again later.',
    'login.other_user': 'This phone holds another worker’s unsynced records; they must sign in and sync first.',
    'home.title': 'Which cell am I in', 'home.denied': 'Location permission denied', 'home.unavailable': 'Location unavailable', 'home.waiting': 'Finding location…',
    'home.outside': 'Outside your cells', 'home.no_cells': 'No cells yet: sync once with a connection',
    'home.fix': 'Lat {lat}, lon {lon}, accuracy about {acc} m', 'home.save_anyway': 'Visits and reports save normally without a location.',
    'home.map_label': 'Your {n} cells and your position', 'home.due': '{n} households due', 'home.report': 'Photo report',
    'home.cells': '{n} cells, {h} households',
    'home.syncing': 'Syncing cells…', 'home.outside_named': 'Outside your cells: {cell}', 'home.their_worker': 'Grid worker: {names}',
    'home.no_worker': 'This cell has no grid worker', 'home.unknown_place': 'Outside the subdistrict’s cells',
    'home.campaigns': '{n} campaigns, {todo} targets to do', 'back.campaigns': 'Back to campaigns', 'back.targets': 'Back to targets',
    'campaign.title': 'Campaigns', 'campaign.none': 'No campaign is assigned to you now.', 'campaign.untitled': 'Untitled campaign',
    'campaign.progress': '{x} / {n} done', 'campaign.until': 'until {d}', 'campaign.all_done': 'All done',
    'campaign.done': 'Done', 'campaign.not_done': 'To do', 'campaign.no_label': 'No address given', 'campaign.no_targets': 'This campaign has no target in your cells.',
    'campaign.gone': 'This campaign has ended or is not in your cells.', 'campaign.target_gone': 'This target is no longer yours.',
    'campaign.no_form': 'The form of this campaign is not on the phone yet; sync once with signal.', 'campaign.answered_before': 'This target was answered already; saving again records another answer.',
    'campaign.save': 'Save', 'campaign.fix': 'Correct what is marked, then save.', 'campaign.saved': 'Saved on the phone; it uploads when there is signal',
    'summary.answer': '{title}: {where}',
    'back.cases': 'Back to cases', 'back.visits': 'Back to visits', 'back.sync': 'Back to sync',
    'limit.counter': '{n}/{max}', 'limit.too_long': '“{field}” takes at most {max} characters; it has {n}.', 'limit.required': 'Fill in “{field}”.',
    'limit.fixed': 'Correct what is marked, then save.',
    'fix.edit': 'Correct and send again', 'fix.discard': 'Discard this record', 'fix.discard_confirm': 'A discarded record is never sent and is removed from the phone. Discard it?',
    'fix.resend': 'Send again', 'fix.cancel': 'Cancel', 'fix.resent': 'Corrected; waiting to upload', 'fix.discarded': 'Discarded',
    'fix.seen_again': 'Tick the residents seen again', 'fix.field': 'What was wrong: {field}',
    'fix.no_form': 'The phone no longer holds this form, so it cannot be corrected; you may discard the record.',
    'state.resent': 'Corrected and resent', 'state.discarded': 'Discarded',
    'sync.last_rejected': 'Last sync: {at}, but the server refused {n} records: see below.', 'sync.rejected_list': 'Refused: needs you',
    'banner.dismiss': 'Dismiss', 'date.today': 'today {time}',
    'map.building': 'This building', 'map.residents': '{n} registered residents', 'map.no_households': 'No households of yours in this building',
    'map.close': 'Close', 'map.zoom_in': 'Zoom in', 'map.zoom_out': 'Zoom out', 'map.locate': 'Back to my position', 'map.fit': 'Show all my cells',
    'map.no_layers': 'No streets or buildings yet: sync once with a connection and they show offline too.',
    'visits.title': 'Visits', 'visits.search': 'Find by building and room', 'visits.search_ph': 'e.g. 12 302', 'visits.bldg': '', 'visits.room': '',
    'visits.due': 'Due', 'visits.last': 'visited {d} days ago', 'visits.never': 'never visited', 'visits.none_match': 'No household matches',
    'visits.empty': 'No households yet: sync once with a connection', 'visits.more': '{n} more: type a building number to narrow', 'visits.count': '{due} due / {n} households',
    'visit.unknown': 'Household not found', 'visit.seen': 'Who was seen', 'visit.no_residents': 'No registered residents', 'visit.outcome': 'Outcome',
    'visit.outcome.met': 'Met', 'visit.outcome.not_home': 'Not home', 'visit.outcome.refused': 'Refused',
    'visit.situation': 'Situation', 'visit.needs': 'Needs', 'visit.follow_up': 'Follow-up', 'visit.to_case': 'A problem found: make it a case',
    'visit.form_untitled': 'Visit form', 'visit.form_for': '{name} · {tags}', 'visit.resident_unnamed': 'Unnamed resident',
    'visit.form_missing': '"{tags}" calls for a visit form the phone does not hold yet. Sync once with a connection; for now you can log the visit in words.',
    'visit.forms_not_met': 'No resident met: no visit form this time.', 'visit.forms_tick_seen': 'Tick the residents you saw under "Who was seen" to fill in their visit forms; residents not seen are not asked.', 'visit.forms_fix': 'The visit form is not complete (marked): complete it, then save.',
    'visit.history': 'Visits to this household', 'visit.history_none': 'No visits to this household on the phone yet.', 'visit.history_undated': 'Date unknown',
    'visit.form_answered': 'Visit form answered', 'visit.form_version_missing': 'The form itself is not on the phone yet; sync to see it.', 'visit.pending': 'Not uploaded yet',
    'summary.visit_answer': '{title}: {where}',
    'visit.save': 'Save visit', 'visit.saved': 'Visit saved', 'visit.case_title': 'Found on a visit: {where}', 'visit.case_default': 'Problem found visiting {where}',
    'report.title': 'Photo report', 'report.catalogue': 'Kind of matter', 'report.catalogue_ph': 'Search, e.g. litter', 'report.description': 'Description',
    'report.address': 'Place (optional)', 'report.urgent': 'Urgent', 'report.save': 'Save report', 'report.saved': 'Report saved',
    'report.default_title': 'Found on patrol', 'report.need_something': 'Take a photo or write a few words.',
    'photo.camera': 'Take photo', 'photo.album': 'From album', 'photo.failed': 'This photo cannot be read', 'photo.alt': 'Photo ({kb} KB)',
    'cases.title': 'My cases', 'cases.empty': 'No cases', 'cases.mine': 'Mine', 'cases.unsynced': 'Unsynced',
    'case.untitled': '(untitled)', 'case.gone': 'This case is not in your scope', 'case.gone_hint': 'It may have been closed or reassigned.',
    'case.after_close': 'Added after closing', 'case.rejected': 'The server refused: {what}', 'case.conflict': '“{field}” conflicts with another edit; the centre decides',
    'case.conflict_values': 'Earlier: {a}; later: {b}', 'case.note': 'Note', 'case.add_note': 'Add note', 'case.photos': 'Photos',
    'case.timeline': 'History', 'case.edit': 'Edit case details', 'case.save_fields': 'Save changes', 'case.number_pending': 'Number assigned after sync',
    'field.title': 'Title', 'field.description': 'Description', 'field.address': 'Place', 'field.priority': 'Priority', 'field.text': 'Note', 'field.situation': 'Situation', 'field.needs': 'Needs', 'field.follow_up': 'Follow-up', 'field.note': 'Note', 'field.catalogue_code': 'Kind of matter', 'field.residents_seen': 'Residents seen', 'field.visited_at': 'Visit time (phone clock)', 'field.captured_at_device': 'Photo time (phone clock)', 'field.lon': 'Location', 'field.lat': 'Location', 'field.accuracy_m': 'Location accuracy', 'field.photos': 'Photos', 'field.outcome': 'Outcome',
    'status.reported': 'Reported', 'status.cancelled': 'Cancelled', 'status.opened': 'Opened', 'status.dispatched': 'Dispatched',
    'status.handling': 'Handling', 'status.handled': 'Handled, to check', 'status.closed': 'Closed', 'status.evaluated': 'Evaluated',
    'action.handling': 'Start handling', 'action.handled': 'Done', 'action.closed': 'Checked: close',
    'event.reported': 'Reported', 'event.note': 'Note', 'event.photo': 'Photo', 'event.status': 'Status', 'event.fields': 'Edited',
    'event.dispatched': 'Dispatched', 'event.opened': 'Opened', 'event.closed': 'Closed', 'event.assigned': 'Assigned',
    'mutation.visit.create': 'Visit', 'mutation.form.answer': 'Form', 'mutation.case.report': 'Report', 'mutation.case.note': 'Note', 'mutation.photo.attach': 'Photo',
    'mutation.case.set_fields': 'Case edit', 'mutation.case.transition': 'Status change',
    'summary.visit': 'Visit {where}', 'summary.case': 'Problem found at {where}', 'summary.report': 'Report: {title} ({n} photos)',
    'summary.note': 'Note on case {n}', 'summary.photo': 'Photo for case {n}', 'summary.status': 'Case {n} → {to}', 'summary.edit': 'Edit case {n}',
    'state.waiting': 'Waiting', 'state.synced': 'Synced', 'state.rejected': 'Rejected', 'state.uploading': 'Photo uploading {pct}%',
    'state.photo_waiting': 'Photo waiting', 'state.photo_sent': 'Photo sent', 'state.photo_failed': 'Photo failed: {code}',
    'reason.STATUS_CONFLICT': 'The centre changed the case status meanwhile (e.g. closed it); this change did not apply. Everything else was kept.',
    'reason.CASE_CLOSED': 'The case is closed and can no longer be edited.', 'reason.NOT_IN_SCOPE': 'Not in your scope.',
    'reason.RESIDENT_NOT_IN_HOUSEHOLD': 'A resident marked as seen is not registered in this household (they may have moved); check and log the visit again.', 'reason.UNKNOWN_CASE': 'The server has no such case.',
    'reason.UNKNOWN_HOUSEHOLD': 'The server has no such household.', 'reason.UNKNOWN_VISIT': 'The server has no such visit.', 'reason.ID_TAKEN': 'Record id clash.',
    'reason.BAD_CORRECTION': 'The corrected visit is not of this household.', 'reason.BASE_VERSION_REQUIRED': 'The edit lacks its base version.',
    'reason.TRANSITION_NOT_ALLOWED': 'This status change is made in the office.', 'reason.NOT_PERMITTED': 'You may not make this status change.',
    'reason.INVALID_ARGS': 'The data is not valid.', 'reason.sha256_mismatch': 'The photo arrived damaged; it will be sent again', 'reason.not_an_image': 'Not a photo',
    'reason.image_unreadable': 'The photo is damaged', 'reason.too_many_pixels': 'The photo has too many pixels', 'reason.upload_too_large': 'The photo is too large',
    'reason.device_required': 'Sign in again',
    'reason.UNKNOWN_MUTATION': 'The server does not know this operation; update the app.', 'reason.OP_ID_REUSED': 'This operation id was already used; not applied twice.',
    'reason.UNKNOWN_FORM_VERSION': 'The server has no such published form version; sync and fill it in again.',
    'reason.UNKNOWN_TARGET': 'The server has no such campaign target.',
    'reason.CAMPAIGN_NOT_PUBLISHED': 'This campaign is not published.',
    'reason.WRONG_FORM': 'This form does not belong to the campaign.',
    'reason.CAMPAIGN_CLOSED': 'The campaign has ended; forms filled in after it ended are not accepted.',
    'reason.ANSWERS_INVALID': 'The answers do not fit the form (perhaps an old app version); check and fill it in again.',
    'reason.INTEGRITY': 'The data clashes with a record on the server.', 'reason.INTERNAL_ERROR': 'The server failed on this record, so it was not applied; the error is in the server log: please tell the centre.',
    'sync.title': 'Sync', 'sync.now': 'Sync now', 'sync.now_pending': 'Sync now, {n} waiting', 'sync.running': 'Syncing…',
    'sync.pending': '{n} waiting', 'sync.last': 'Last successful sync: {at}', 'sync.never': 'never', 'sync.nothing': 'Nothing here',
    'sync.waiting_list': 'Waiting', 'sync.done_list': 'Recently done',
    'sync.error.offline': 'No connection. Records are kept on the phone and upload when there is signal.', 'sync.error.signed_out': 'Sign-in expired: sign in again to sync.',
    'sync.error.upgrade_required': 'Update the app, then sync.', 'sync.error.server_busy': 'The server is busy; retrying later.', 'sync.error.error': 'Sync failed; retrying later.',
    'banner.update': 'A new version is ready: tap to reload', 'banner.update_button': 'Reload', 'banner.update_dirty': 'Save what you are typing first, then reload.',
    'banner.update_busy': 'Syncing: reload in a moment.', 'banner.expired': 'Sign-in expired: records stay on the phone; sign in again to sync them.', 'banner.sign_in_again': 'Sign in again',
    'banner.ios': 'Safari on iPhone deletes offline records after 7 days without use. Tap Share → Add to Home Screen and open the app from its icon there.',
    'banner.ios_stale': '{n} records have waited more than a day! Safari deletes them after 7 days without use. Get online and tap Sync now, and add the app to the Home Screen.',
    'banner.persist_refused': 'The browser did not agree to protect the data: it may still clear offline records when space runs low. Sync often.',
    'banner.in_app': 'Used inside {app}: records may be lost. Sync soon and open the app in the phone\'s browser instead.',
    'settings.persist_unsupported': 'This browser cannot protect the data: sync often.',
    'browser.title': 'Open in the phone\'s browser', 'browser.blocked_title': 'Records cannot be kept here',
    'browser.in_app': 'You opened the grid worker app inside {app}.', 'browser.no_storage': 'This browser cannot save data on the phone.',
    'browser.no_offline': 'This browser cannot open the app without a network.',
    'browser.risk': 'Browsers inside other apps may clear saved records at any time and may not open the app offline: visits and reports not yet sent may be lost.',
    'browser.blocked_risk': 'Visits and reports entered here could be lost, so the grid worker app cannot be used here. Follow the steps below to use another browser.',
    'browser.how': 'How to open it in the phone\'s browser', 'browser.step_menu': 'Tap ··· at the top right.', 'browser.step_open': 'Choose “Open in browser”.',
    'browser.step_open_ios': 'Choose “Open in Safari”.',
    'browser.step_or_copy': 'If the menu has no such item, tap Copy link below and paste it into the browser\'s address bar.',
    'browser.step_copy': 'Tap Copy link below, open the phone\'s own browser (or Chrome, Safari) and paste it into the address bar.',
    'browser.step_other_browser': 'If private browsing is on, turn it off; or use the phone\'s own browser, Chrome or Safari.',
    'browser.link': 'Link to this app', 'browser.copy': 'Copy link', 'browser.copied': 'Link copied: paste it into the browser\'s address bar.',
    'browser.copy_failed': 'Could not copy: press and hold the link above, select all and copy.', 'browser.continue': 'Use it here anyway (records may be lost)',
    'browser.app.wechat': 'WeChat', 'browser.app.qq': 'QQ', 'browser.app.alipay': 'Alipay', 'browser.app.dingtalk': 'DingTalk',
    'browser.app.weibo': 'Weibo', 'browser.app.douyin': 'Douyin', 'browser.app.webview': 'another app\'s browser',
    'banner.persist': 'The browser may clear offline records when space runs low', 'banner.persist_button': 'Protect data',
    'settings.title': 'Settings', 'settings.signed_in': 'Signed in: {name}', 'settings.language': 'Language', 'settings.storage': 'Storage on this phone',
    'settings.usage': '{used} used, about {free} free', 'settings.usage_unknown': 'The browser does not report storage use', 'settings.persisted': 'Data is protected from automatic clearing.',
    'settings.not_persisted': 'Data is not protected: the browser may clear it when space runs low.', 'settings.account': 'Account', 'settings.device': 'Device',
    'settings.about': 'About', 'settings.license': 'This program is free software under the GNU AGPL-3.0.', 'settings.source': 'Download the source code',
    'settings.logout': 'Sign out', 'settings.logout_confirm': 'Signing out deletes residents and cases from this phone. Sign out?',
    'settings.logout_unsynced': '{n} records have not been uploaded and will be lost for good! Sign out anyway?', 'settings.logged_out': 'Signed out; data on this phone deleted',
  },
};

const KEY = 'wangge.lang'; // localStorage: read synchronously before the first paint
let current = (() => { try { return localStorage.getItem(KEY) || 'zh'; } catch { return 'zh'; } })();

export const lang = () => current;

/** The message for `key` in the current language, `{name}` filled from `params`. */
export function t(key, params = {}, fallback) {
  const text = MESSAGES[current][key] ?? MESSAGES.zh[key] ?? fallback ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ''));
}

/**
 * Why the server refused a record, in words: the app's text for its code, else the server's
 * own text, else its message. A push reply nests the reason (`result.reason`); a rejection
 * learnt from a pull carries it flat.
 */
export function reasonText(result) {
  const reason = result?.reason || result || {};
  return t(`reason.${reason.code}`, {}, reason.text || reason.message || reason.code || '');
}

export function setLang(code) {
  current = MESSAGES[code] ? code : 'zh';
  try { localStorage.setItem(KEY, current); } catch { /* private mode: this session only */ }
  applyStatic();
}

/** Fill `[data-i18n]` elements of the static page and the document language. */
export function applyStatic() {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.title = current === 'zh' ? '网格·网格员' : 'Wangge · grid worker';
}

// Every date on the worker's screens is Shanghai time, whatever the phone's zone: the office,
// the residents and the records all count days there.
export const ZONE = 'Asia/Shanghai';
// "YYYY-MM-DD" in Shanghai, from the parts: the 'en-CA' short date is not ISO in every engine
// (WebKitGTK gives "12/1/2026", which made every date look like another year's).
const DAY_PARTS = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const dayKey = (d) => {
  const part = Object.fromEntries(DAY_PARTS.formatToParts(d).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day}`;
};

export const fmt = {
  /** "12月3日 13:58" (this year), "2025年12月3日 13:58" (another), "今天 13:58" (today). */
  time(iso, now = new Date()) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '—';
    const locale = current === 'en' ? 'en-GB' : 'zh-CN';
    const time = d.toLocaleTimeString(locale, { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hour12: false });
    if (dayKey(d) === dayKey(now)) return t('date.today', { time });
    const sameYear = dayKey(d).slice(0, 4) === dayKey(now).slice(0, 4);
    const date = d.toLocaleDateString(locale, { timeZone: ZONE, month: 'long', day: 'numeric', ...(sameYear ? {} : { year: 'numeric' }) });
    return `${date} ${time}`;
  },
};
