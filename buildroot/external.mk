# The packages of the RMS Connector Appliance's external tree.
include $(sort $(wildcard $(BR2_EXTERNAL_RMSC_PATH)/package/*/*.mk))
